/**
 * A raw graphql-transport-ws client for the WebSocket tests (websocketLimits.test.ts,
 * websocketFlooding.test.ts and websocketAuthorization.test.ts): sockets that record what the
 * server sends, and the helpers those tests share.
 */
import type pg from "pg";
import WebSocket from "ws";
import { MAX_OPERATIONS_PER_SOCKET, MAX_REFUSALS_PER_SOCKET } from "../../src/platform/websocketLimits.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";

/** The server of a WebSocket test file: a live binding, set by useWebSocketApp() in beforeAll. */
export let app: TestApp;

/** Starts the test file's server before its tests and stops it after them. */
export function useWebSocketApp(): void {
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());
}

export interface RawSocket {
  ws: WebSocket;
  messages: Array<{ id?: string; type: string; payload?: unknown }>;
  closed: Promise<{ code: number; reason: string }>;
}

/** A graphql-transport-ws socket past connection_ack, recording what the server sends. */
export async function openSocket(
  app: TestApp,
  options: { payload?: unknown; forwardedFor?: string } = {},
): Promise<RawSocket> {
  const ws = new WebSocket(
    app.wsUrl,
    "graphql-transport-ws",
    options.forwardedFor ? { headers: { "x-forwarded-for": options.forwardedFor } } : {},
  );
  const messages: RawSocket["messages"] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  ws.on("error", () => {});
  // graphql-transport-ws speaks in text frames: a binary one is recorded as what it is, and fails the test.
  ws.on(
    "message",
    (data, isBinary) =>
      void messages.push(
        (isBinary ? { type: "a binary frame" } : JSON.parse(String(data))) as RawSocket["messages"][number],
      ),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const acked = new Promise<void>((resolve) =>
    ws.on("message", (data) => (JSON.parse(String(data)).type === "connection_ack" ? resolve() : undefined)),
  );
  ws.send(JSON.stringify({ type: "connection_init", payload: "payload" in options ? options.payload : {} }));
  await acked;
  return { ws, messages, closed };
}

/** Resolves with the server's answer to operation `id`: its first `next` or `error`, or the socket's close. */
export function answerTo(
  socket: RawSocket,
  id: string,
): Promise<{ id?: string; type: string; payload?: unknown; code?: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer to ${id}`)), 20_000);
    void socket.closed.then(({ code }) => {
      clearTimeout(timer);
      resolve({ type: "closed", code });
    });
    const check = () => {
      const found = socket.messages.find(
        (message) => message.id === id && (message.type === "next" || message.type === "error"),
      );
      if (found) {
        clearTimeout(timer);
        resolve(found);
      } else socket.ws.once("message", () => setImmediate(check));
    };
    check();
  });
}

export type Message = RawSocket["messages"][number];
type Errors = Array<{ message: string; extensions?: { code?: string; details?: unknown } }>;

const byIdOf = new WeakMap<RawSocket, Map<string, Message[]>>();

/**
 * Every message of a socket by operation id, as they arrive: one live map a socket, whose listener
 * is added once (a poll calling this had added one a call, past Node's warning of ten).
 */
export function byId(socket: RawSocket): Map<string, Message[]> {
  const known = byIdOf.get(socket);
  if (known) return known;
  const seen = new Map<string, Message[]>();
  const add = (message: Message) => {
    if (message.id !== undefined) seen.set(message.id, [...(seen.get(message.id) ?? []), message]);
  };
  for (const message of socket.messages) add(message);
  socket.ws.on("message", (data) => add(JSON.parse(String(data)) as Message));
  byIdOf.set(socket, seen);
  return seen;
}

export const MODULES_QUERY = "{ modules { nodes { name } } }";

export function subscribeAll(socket: RawSocket, ids: string[], query: string): void {
  for (const id of ids) socket.ws.send(JSON.stringify({ id, type: "subscribe", payload: { query } }));
}

/**
 * The most one socket can send at once without being closed as flooding: the cap, then every
 * refusal it may collect.
 */
export const FLOOD = MAX_OPERATIONS_PER_SOCKET + MAX_REFUSALS_PER_SOCKET;
export const ids = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${i}`);
export const isRateLimited = (messages: Message[] | undefined) =>
  messages?.length === 1 &&
  messages[0]!.type === "error" &&
  (messages[0]!.payload as Errors)[0]?.extensions?.code === "RATE_LIMITED";

/**
 * Holds app_public.modules locked (ACCESS EXCLUSIVE) until the returned function is called: a
 * `modules` query stays in flight (waiting for the lock) until then.
 */
export async function lockModules(app: TestApp): Promise<() => Promise<void>> {
  const client: pg.PoolClient = await app.db.rootPool.connect();
  await client.query("begin");
  await client.query("lock table app_public.modules in access exclusive mode");
  return async () => {
    await client.query("commit");
    client.release();
  };
}
