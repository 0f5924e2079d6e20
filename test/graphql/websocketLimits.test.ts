/**
 * The body cap of GraphQL over HTTP (grafserv's maxRequestLength, 100,000 bytes) holds over
 * WebSocket too: a bigger message closes the socket with 1009 (message too big) before it is
 * parsed, and the server carries on.
 */
import WebSocket from "ws";
import { startTestApp, type TestApp } from "../helpers/app.ts";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

const MAX_REQUEST_LENGTH = 100_000;

interface RawSocket {
  ws: WebSocket;
  messages: Array<{ id?: string; type: string; payload?: unknown }>;
  closed: Promise<{ code: number; reason: string }>;
}

/** A graphql-transport-ws socket past connection_ack, recording what the server sends. */
async function openSocket(): Promise<RawSocket> {
  const ws = new WebSocket(app.wsUrl, "graphql-transport-ws");
  const messages: RawSocket["messages"] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on("error", () => {});
  ws.on("message", (data) => void messages.push(JSON.parse(String(data)) as RawSocket["messages"][number]));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const acked = new Promise<void>((resolve) => ws.on("message", (data) => (JSON.parse(String(data)).type === "connection_ack" ? resolve() : undefined)));
  ws.send(JSON.stringify({ type: "connection_init", payload: {} }));
  await acked;
  return { ws, messages, closed };
}

/** A query document of exactly `bytes` bytes once wrapped in its subscribe message. */
function subscribeMessage(id: string, bytes: number): string {
  const empty = JSON.stringify({ id, type: "subscribe", payload: { query: "{ __typename }\n#" } });
  const padded = JSON.stringify({ id, type: "subscribe", payload: { query: `{ __typename }\n#${"x".repeat(bytes - Buffer.byteLength(empty))}` } });
  expect(Buffer.byteLength(padded)).toBe(bytes);
  return padded;
}

/** Resolves with the server's answer to operation `id`: its first `next` or `error`, or the socket's close. */
function answerTo(socket: RawSocket, id: string): Promise<{ id?: string; type: string; payload?: unknown; code?: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer to ${id}`)), 20_000);
    void socket.closed.then(({ code }) => {
      clearTimeout(timer);
      resolve({ type: "closed", code });
    });
    const check = () => {
      const found = socket.messages.find((message) => message.id === id && (message.type === "next" || message.type === "error"));
      if (found) {
        clearTimeout(timer);
        resolve(found);
      } else socket.ws.once("message", () => setImmediate(check));
    };
    check();
  });
}

test("a message of exactly the HTTP body cap runs", async () => {
  const socket = await openSocket();
  socket.ws.send(subscribeMessage("at-cap", MAX_REQUEST_LENGTH));
  expect(await answerTo(socket, "at-cap")).toEqual({ id: "at-cap", type: "next", payload: { data: { __typename: "Query" } } });
  socket.ws.close(1000);
});

test("a message one byte over the cap closes the socket with 1009 before it runs; the server carries on", async () => {
  const socket = await openSocket();
  socket.ws.send(subscribeMessage("over-cap", MAX_REQUEST_LENGTH + 1));
  expect(await answerTo(socket, "over-cap")).toEqual({ type: "closed", code: 1009 });
  expect(socket.messages.filter((message) => message.id === "over-cap")).toEqual([]);

  // A 1.8 MB document (100k aliases) never reaches the parser either.
  const big = await openSocket();
  const aliases = Array.from({ length: 100_000 }, (_, i) => `a${i}: __typename`).join(" ");
  big.ws.send(JSON.stringify({ id: "aliases", type: "subscribe", payload: { query: `{ ${aliases} }` } }));
  expect(await answerTo(big, "aliases")).toEqual({ type: "closed", code: 1009 });

  // The process is unharmed: a new socket and an HTTP request both work.
  const after = await openSocket();
  after.ws.send(subscribeMessage("after", 200));
  expect(await answerTo(after, "after")).toMatchObject({ type: "next", payload: { data: { __typename: "Query" } } });
  after.ws.close(1000);
  expect((await app.graphql("{ __typename }")).body).toEqual({ data: { __typename: "Query" } });
});
