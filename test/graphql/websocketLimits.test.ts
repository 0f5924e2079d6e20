/**
 * Limits of GraphQL over WebSocket:
 * - the body cap of GraphQL over HTTP (grafserv's maxRequestLength, 100,000 bytes): a bigger
 *   message closes the socket with 1009 (message too big) before it is parsed;
 * - at most MAX_OPERATIONS_PER_SOCKET (100) operations in flight per socket, queries and
 *   subscriptions alike: one more is answered at once with an `error` RATE_LIMITED, and the count
 *   is released when an operation ends (it never leaks);
 * - at most MAX_SOCKETS_PER_ADDRESS (50) sockets per client address: one more upgrade is answered
 *   HTTP 429;
 * - a flood of operations leaves the process responsive (/ready answers);
 * - a connection_init `authorization` that is not a string fails operations with UNAUTHENTICATED.
 * The server carries on after each.
 */
import type pg from "pg";
import WebSocket from "ws";
import { CLOSE_FLOODING, MAX_BUFFERED_BYTES, MAX_OPERATIONS_PER_SOCKET, MAX_REFUSALS_PER_SOCKET, MAX_SOCKETS_PER_ADDRESS } from "../../src/platform/websockets.ts";
import { listening, startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser } from "../helpers/fixtures.ts";
import { until } from "../helpers/wait.ts";

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
async function openSocket(options: { payload?: unknown; forwardedFor?: string; on?: TestApp } = {}): Promise<RawSocket> {
  const ws = new WebSocket((options.on ?? app).wsUrl, "graphql-transport-ws", options.forwardedFor ? { headers: { "x-forwarded-for": options.forwardedFor } } : {});
  const messages: RawSocket["messages"] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on("error", () => {});
  ws.on("message", (data) => void messages.push(JSON.parse(String(data)) as RawSocket["messages"][number]));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const acked = new Promise<void>((resolve) => ws.on("message", (data) => (JSON.parse(String(data)).type === "connection_ack" ? resolve() : undefined)));
  ws.send(JSON.stringify({ type: "connection_init", payload: "payload" in options ? options.payload : {} }));
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

// ——— Operations in flight per socket ———

type Message = RawSocket["messages"][number];
type Errors = Array<{ message: string; extensions?: { code?: string; details?: unknown } }>;

/** Every message of a socket by operation id, as they arrive. */
function byId(socket: RawSocket): Map<string, Message[]> {
  const seen = new Map<string, Message[]>();
  for (const message of socket.messages) if (message.id !== undefined) seen.set(message.id, [...(seen.get(message.id) ?? []), message]);
  socket.ws.on("message", (data) => {
    const message = JSON.parse(String(data)) as Message;
    if (message.id !== undefined) seen.set(message.id, [...(seen.get(message.id) ?? []), message]);
  });
  return seen;
}

const MODULES_QUERY = "{ modules { nodes { name } } }";
const NOTIFICATIONS = "subscription { notificationAdded { notification { title } } }";

function subscribeAll(socket: RawSocket, ids: string[], query: string): void {
  for (const id of ids) socket.ws.send(JSON.stringify({ id, type: "subscribe", payload: { query } }));
}

/** The most one socket can send at once without being closed as flooding: the cap, then every refusal it may collect. */
const FLOOD = MAX_OPERATIONS_PER_SOCKET + MAX_REFUSALS_PER_SOCKET;
/** Leaves room for the refusals of a further full batch while the subscriptions live. */
const SUBSCRIPTION_FLOOD = MAX_OPERATIONS_PER_SOCKET + MAX_REFUSALS_PER_SOCKET / 2;
const ids = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${i}`);
const isRateLimited = (messages: Message[] | undefined) =>
  messages?.length === 1 && messages[0]!.type === "error" && (messages[0]!.payload as Errors)[0]?.extensions?.code === "RATE_LIMITED";

/**
 * Holds app_public.modules locked (ACCESS EXCLUSIVE) until the returned function is called: a
 * `modules` query stays in flight (waiting for the lock) until then.
 */
async function lockModules(): Promise<() => Promise<void>> {
  const client: pg.PoolClient = await app.db.rootPool.connect();
  await client.query("begin");
  await client.query("lock table app_public.modules in access exclusive mode");
  return async () => {
    await client.query("commit");
    client.release();
  };
}

/**
 * With `modules` locked, sends MAX + 1 `modules` queries at once; answers how many were refused.
 * Once the last one is refused every earlier one has been admitted or refused (a socket's
 * messages are taken in order). Then unlocks and waits for every one to be answered, so that the
 * socket is left as it was. If places were freed while the batch was taken, its last one may be
 * admitted too and wait for the lock: after `lastAnswerMs` the answer is then `undefined`.
 */
async function refusalsOfAFullBatch(socket: RawSocket, seen: Map<string, Message[]>, prefix: string, lastAnswerMs = 20_000): Promise<number | undefined> {
  const batch = ids(prefix, MAX_OPERATIONS_PER_SOCKET + 1);
  const unlock = await lockModules();
  try {
    subscribeAll(socket, batch, MODULES_QUERY);
    const answered = await until(() => seen.has(batch.at(-1)!), `an answer to ${batch.at(-1)} while the others wait`, lastAnswerMs).then(() => true, () => false);
    if (!answered) return undefined;
  } finally {
    await unlock();
  }
  await until(() => batch.every((id) => seen.get(id)?.some((message) => message.type === "complete" || message.type === "error")), `answers to ${prefix}*`);
  return batch.filter((id) => isRateLimited(seen.get(id))).length;
}

test(`${FLOOD} queries sent at once on one socket: ${MAX_OPERATIONS_PER_SOCKET} run, the rest are RATE_LIMITED at once; once they end, the socket runs a full batch again (the count does not leak)`, async () => {
  // Fails on the code before the cap: no RATE_LIMITED, every query waits for the lock.
  const socket = await openSocket();
  const seen = byId(socket);
  const flood = ids("q", FLOOD);
  const unlock = await lockModules();
  try {
    subscribeAll(socket, flood, MODULES_QUERY);
    const refused = flood.slice(MAX_OPERATIONS_PER_SOCKET);
    await until(() => refused.every((id) => seen.has(id)), "the refusals of the operations over the cap");
    for (const id of refused) expect(isRateLimited(seen.get(id))).toBe(true);
    expect(seen.get(refused[0]!)![0]!.payload).toEqual([
      expect.objectContaining({ extensions: { code: "RATE_LIMITED", details: { reason: "TOO_MANY_OPERATIONS", limit: MAX_OPERATIONS_PER_SOCKET } } }),
    ]);
    // The first 100 are in flight: waiting for the lock, not answered.
    expect(flood.slice(0, MAX_OPERATIONS_PER_SOCKET).filter((id) => seen.has(id))).toEqual([]);
  } finally {
    await unlock();
  }
  const admitted = flood.slice(0, MAX_OPERATIONS_PER_SOCKET);
  await until(() => admitted.every((id) => seen.get(id)?.some((message) => message.type === "complete")), "the admitted queries to complete");
  for (const id of admitted) expect(seen.get(id)!.map((message) => message.type)).toEqual(["next", "complete"]);
  expect(seen.get("q0")![0]!.payload).toMatchObject({ data: { modules: { nodes: expect.any(Array) } } });

  // Every place is free again, and the cap still holds: of 101 queries exactly the last is refused.
  expect(await refusalsOfAFullBatch(socket, seen, "again")).toBe(1);
  expect(await refusalsOfAFullBatch(socket, seen, "and-again")).toBe(1);
  socket.ws.close(1000);
});

test(`subscriptions count the same: of ${SUBSCRIPTION_FLOOD} on one member socket ${MAX_OPERATIONS_PER_SOCKET} live, the rest RATE_LIMITED; completing them frees their places`, async () => {
  // Fails on the code before the cap: all of them are admitted, none refused.
  const tenant = await createTenant(app.db.ownerPool);
  const member = await createUser(app.db.ownerPool, tenant, "member");
  const socket = await openSocket({ payload: { authorization: `Bearer ${member.token}` } });
  const seen = byId(socket);
  const flood = ids("s", SUBSCRIPTION_FLOOD);
  subscribeAll(socket, flood, NOTIFICATIONS);
  const refused = flood.slice(MAX_OPERATIONS_PER_SOCKET);
  await until(() => refused.every((id) => seen.has(id)), "the refusals of the subscriptions over the cap");
  for (const id of refused) expect(isRateLimited(seen.get(id))).toBe(true);

  // The first 100 are live: one notification reaches each of them.
  const live = flood.slice(0, MAX_OPERATIONS_PER_SOCKET);
  await listening(app, `user:${member.id}:notifications`);
  await app.db.ownerPool.query(
    "insert into app_public.instant_notifications (tenant_id, recipient_id, kind, title, content) values ($1, $2, 'test', 'to all', 'x')",
    [tenant.id, member.id],
  );
  await until(() => live.every((id) => seen.get(id)?.some((message) => message.type === "next")), "the notification on every live subscription");

  // While they live, no further operation is admitted; once the client completes them, all are.
  expect(await refusalsOfAFullBatch(socket, seen, "while-live")).toBe(MAX_OPERATIONS_PER_SOCKET + 1);
  for (const id of live) socket.ws.send(JSON.stringify({ id, type: "complete" }));
  // The server frees them as it handles the `complete` messages; a batch sent meanwhile may find
  // only some free (then it is retried).
  let attempt = 0;
  await until(async () => (await refusalsOfAFullBatch(socket, seen, `after-complete-${attempt++}-`, 2_000)) === 1, "the completed subscriptions' places to be free", 60_000);
  socket.ws.close(1000);
});

test("operations that fail (UNAUTHENTICATED, invalid documents) release their place", async () => {
  // Fails on the code before the cap: the 101st query of the last batch is not refused.
  const socket = await openSocket({ payload: { authorization: "Bearer not-a-token" } });
  const seen = byId(socket);
  const failing = ids("f", 3 * MAX_OPERATIONS_PER_SOCKET);
  for (const id of failing) socket.ws.send(JSON.stringify({ id, type: "subscribe", payload: { query: id.endsWith("0") ? "{ nope" : "{ __typename }" } }));
  await until(() => failing.every((id) => seen.has(id)), "every failing operation's answer");
  expect(failing.filter((id) => seen.get(id)![0]!.type !== "error")).toEqual([]);
  socket.ws.close(1000);
  const anonymous = await openSocket();
  const seenAnonymous = byId(anonymous);
  subscribeAll(anonymous, ids("n", 2 * MAX_OPERATIONS_PER_SOCKET), NOTIFICATIONS);
  await until(() => ids("n", 2 * MAX_OPERATIONS_PER_SOCKET).every((id) => seenAnonymous.has(id)), "every anonymous subscription's refusal");
  expect(await refusalsOfAFullBatch(anonymous, seenAnonymous, "after-failures")).toBe(1);
  anonymous.ws.close(1000);
});

// ——— Sockets per client address ———

/** Opens a socket whose upgrade says it comes from `forwardedFor` (the test server trusts loopback proxies); answers the socket or the refusal's status. */
function upgrade(forwardedFor: string): Promise<{ ws?: WebSocket; status?: number; body?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(app.wsUrl, "graphql-transport-ws", { headers: { "x-forwarded-for": forwardedFor } });
    ws.once("open", () => resolve({ ws }));
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += String(chunk)));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    ws.once("error", (error) => (ws.readyState === ws.CLOSED ? undefined : reject(error)));
  });
}

test(`at most ${MAX_SOCKETS_PER_ADDRESS} sockets per client address: one more upgrade is answered 429; another address connects; closing one lets a new one in`, async () => {
  // Fails on the code before the cap: the 51st socket opens.
  const address = "203.0.113.50";
  const open: WebSocket[] = [];
  for (let i = 0; i < MAX_SOCKETS_PER_ADDRESS; i++) {
    const { ws, status } = await upgrade(address);
    expect(status).toBeUndefined();
    open.push(ws!);
  }
  const refused = await upgrade(address);
  expect(refused.ws).toBeUndefined();
  expect(refused.status).toBe(429);
  expect(refused.body).toContain(`At most ${MAX_SOCKETS_PER_ADDRESS} WebSockets per client address`);

  const other = await upgrade("203.0.113.51");
  expect(other.ws).toBeDefined();
  other.ws!.close(1000);

  // Its place is freed once the server has seen its connection close.
  const first = open.shift()!;
  await new Promise<void>((resolve) => {
    first.once("close", () => resolve());
    first.close(1000);
  });
  let again: WebSocket | undefined;
  await until(async () => {
    again = (await upgrade(address)).ws;
    return again !== undefined;
  }, "a new socket from the address once one has closed");
  open.push(again!);
  expect((await upgrade(address)).status).toBe(429);

  await Promise.all(open.map((ws) => new Promise<void>((resolve) => {
    ws.once("close", () => resolve());
    ws.close(1000);
  })));
});

// ——— A flood stays cheap ———

test(`a socket that keeps sending past the cap is closed with ${CLOSE_FLOODING} after ${MAX_REFUSALS_PER_SOCKET} refusals; the next socket works`, async () => {
  // Fails on the code before the flood guard: the socket stays open and every message is refused one by one.
  const socket = await openSocket();
  const seen = byId(socket);
  const flood = ids("f", FLOOD + 50);
  const unlock = await lockModules();
  try {
    subscribeAll(socket, flood, MODULES_QUERY);
    expect((await socket.closed).code).toBe(CLOSE_FLOODING);
  } finally {
    await unlock();
  }
  // Exactly the refusals up to the one that closed the socket were answered; nothing after it.
  expect(flood.filter((id) => isRateLimited(seen.get(id))).length).toBeLessThanOrEqual(MAX_REFUSALS_PER_SOCKET + 1);
  expect(seen.has(flood.at(-1)!)).toBe(false);
  const next = await openSocket();
  next.ws.send(JSON.stringify({ id: "fine", type: "subscribe", payload: { query: "{ __typename }" } }));
  expect(await answerTo(next, "fine")).toMatchObject({ type: "next", payload: { data: { __typename: "Query" } } });
  next.ws.close(1000);
});

test("while 5 sockets each send 5,000 queries without waiting, /ready answers 200", async () => {
  // Fails on the code before the cap: all 25,000 run at once and /ready does not answer.
  const sockets = await Promise.all(Array.from({ length: 5 }, () => openSocket()));
  const seen = sockets.map(byId);
  const flood = ids("r", 5_000);
  for (const socket of sockets) subscribeAll(socket, flood, MODULES_QUERY);
  // A failure bound, not a timing: two test runs share two cores.
  const ready = await fetch(`${app.url}/ready`, { signal: AbortSignal.timeout(45_000) });
  expect(ready.status).toBe(200);
  // Each socket's flood ends: its last message answered, or the socket closed as flooding.
  await until(() => seen.every((byId, i) => byId.has(flood.at(-1)!) || sockets[i]!.ws.readyState === WebSocket.CLOSED), "every flood to end", 60_000);
  expect(seen.flatMap((byId) => flood.filter((id) => isRateLimited(byId.get(id)))).length).toBeGreaterThan(0);
  for (const socket of sockets) socket.ws.close(1000);
});

// ——— A client that does not read ———

test(`a client that stops reading is cut once more than ${MAX_BUFFERED_BYTES} bytes wait for it; others are unaffected`, async () => {
  // Fails on the code before the guard: the server queues the answers until the keepalive, much
  // later, finds the client dead (which logs nothing of the kind).
  const logLines: string[] = [];
  const own = await startTestApp({ logLines });
  try {
    const bystander = await openSocket({ on: own });
    const stalled = await openSocket({ on: own });
    // Stops reading: what the server sends piles up in the kernel's buffers, then in the server.
    (stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    // 100 operations, each two full introspections (~130 kB apiece): some 26 MB of answers.
    const schema = "__schema { types { name description fields { name description args { name description type { name kind ofType { name kind } } } type { name kind ofType { name kind } } } } }";
    subscribeAll(stalled, ids("big", MAX_OPERATIONS_PER_SOCKET), `{ a: ${schema} b: ${schema} }`);
    const open = async () => Number(/^tessera_websocket_connections (\d+)$/m.exec(await (await fetch(`${own.url}/metrics`)).text())?.[1]);
    expect(await open()).toBe(2);
    await until(() => logLines.some((line) => line.includes("websocket client does not read; terminated")), "the stalled socket to be cut", 60_000);
    await until(async () => (await open()) === 1, "the open-socket gauge to count the bystander only");
    bystander.ws.send(JSON.stringify({ id: "still", type: "subscribe", payload: { query: "{ __typename }" } }));
    expect(await answerTo(bystander, "still")).toMatchObject({ type: "next", payload: { data: { __typename: "Query" } } });
    bystander.ws.close(1000);
    stalled.ws.terminate();
  } finally {
    await own.stop();
  }
});

// ——— connection_init authorization ———

test.each([
  ["{}", {}],
  ["[]", []],
  ['["x"]', ["x"]],
  ['["Bearer <token>"]', "token-list"],
  ["false", false],
  ["true", true],
  ["0", 0],
  ["1", 1],
  ['{ "a": 1 }', { a: 1 }],
])("a connection_init authorization of %s fails each operation with UNAUTHENTICATED, never anonymously", async (_name, value) => {
  // Fails on the code before the fix for {}, [], ["x"], ["Bearer <token>"] and { a: 1 }: they ran anonymously.
  const tenant = await createTenant(app.db.ownerPool);
  const member = await createUser(app.db.ownerPool, tenant, "member");
  const authorization = value === "token-list" ? [`Bearer ${member.token}`] : value;
  const socket = await openSocket({ payload: { authorization } });
  socket.ws.send(JSON.stringify({ id: "op", type: "subscribe", payload: { query: "{ __typename }" } }));
  const answer = await answerTo(socket, "op");
  expect(answer).toMatchObject({ type: "error", payload: [expect.objectContaining({ extensions: { code: "UNAUTHENTICATED" } })] });
  socket.ws.close(1000);
});

test("the authorization key twice (any case) is UNAUTHENTICATED; absent, null and empty are anonymous", async () => {
  // Fails on the code before the fix for the key twice: it ran anonymously.
  const tenant = await createTenant(app.db.ownerPool);
  const member = await createUser(app.db.ownerPool, tenant, "member");
  const twice = await openSocket({ payload: { Authorization: `Bearer ${member.token}`, authorization: `Bearer ${member.token}` } });
  twice.ws.send(JSON.stringify({ id: "op", type: "subscribe", payload: { query: "{ __typename }" } }));
  expect(await answerTo(twice, "op")).toMatchObject({ type: "error", payload: [expect.objectContaining({ extensions: { code: "UNAUTHENTICATED" } })] });
  twice.ws.close(1000);

  for (const payload of [{}, { authorization: null }, { authorization: "" }, undefined]) {
    const socket = await openSocket({ payload });
    socket.ws.send(JSON.stringify({ id: "op", type: "subscribe", payload: { query: "{ __typename }" } }));
    expect(await answerTo(socket, "op")).toEqual({ id: "op", type: "next", payload: { data: { __typename: "Query" } } });
    socket.ws.close(1000);
  }
  // A string token in any key case signs in.
  const signedIn = await openSocket({ payload: { AUTHORIZATION: `Bearer ${member.token}` } });
  signedIn.ws.send(JSON.stringify({ id: "op", type: "subscribe", payload: { query: "{ currentUser { id } }" } }));
  expect(await answerTo(signedIn, "op")).toMatchObject({ type: "next", payload: { data: { currentUser: { id: expect.any(String) } } } });
  signedIn.ws.close(1000);
});
