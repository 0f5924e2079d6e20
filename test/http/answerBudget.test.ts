/**
 * Answers waiting for their clients, on every route: a connection has at most MAX_PIPELINED
 * requests unanswered, and every answer written counts against the process's bytes of unread
 * answers until it has gone out. A client pipelining `GET /openapi.json` (451 kB) 3,000 times on
 * each of 20 connections, reading nothing, had grown the process past 2 GiB; `GET /metrics`
 * 2,000 times on 10 ended it (heap out of memory).
 */
import net from "node:net";
import { MAX_PIPELINED } from "../../src/platform/http/answerBudget.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { until } from "../helpers/wait.ts";

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

/** Sends `requests` on one connection at once and collects every answer's status, in order. */
async function pipelined(target: TestApp, requests: string[]): Promise<{ statuses: number[]; text: string }> {
  const socket = net.connect(Number(new URL(target.url).port), "127.0.0.1");
  let received = "";
  socket.setEncoding("latin1");
  socket.on("data", (chunk: string) => (received += chunk));
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.write(requests.join(""));
  const statuses = () => [...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]));
  try {
    await until(() => statuses().length === requests.length, "every answer on the connection", 30_000);
  } finally {
    socket.destroy();
  }
  return { statuses: statuses(), text: received };
}

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`;

test(`past ${MAX_PIPELINED} requests unanswered on one connection, any route answers 429, in its turn`, async () => {
  // Fails on the code before: only /graphql had the bound; every one of these was answered whole.
  const sent = 40;
  const { statuses, text } = await pipelined(
    app,
    Array.from({ length: sent }, () => get("/openapi.json")),
  );
  // One read holds every request: all are taken before any answer has gone out.
  expect(statuses).toEqual([...Array(MAX_PIPELINED).fill(200), ...Array(sent - MAX_PIPELINED).fill(429)]);
  expect(text).toContain('"details":{"reason":"TOO_MANY_REQUESTS_WAITING","limit":8}');
  // The connection's answers have all gone: the next request on a new one is served.
  expect((await fetch(`${app.url}/openapi.json`)).status).toBe(200);
});

test("an answer that would take the process past its bytes of unread answers loses its connection", async () => {
  // Fails on the code before: REST answers were not counted; the 451 kB document went out whole.
  const logLines: string[] = [];
  const small = await startTestApp({ logLines, maxUnsentBytes: 100_000 });
  try {
    await expect(fetch(`${small.url}/openapi.json`)).rejects.toThrow();
    expect(logLines.some((line) => line.includes("the connection waiting longest is cut"))).toBe(true);
    // Smaller answers fit.
    expect((await fetch(`${small.url}/api/healthz`)).status).toBe(200);
  } finally {
    await small.stop();
  }
});
