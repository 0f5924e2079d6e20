/**
 * Floods of GraphQL over WebSocket stay cheap:
 * - at most MAX_SOCKETS_PER_ADDRESS (50) sockets per client address: one more upgrade is answered
 *   HTTP 429;
 * - a socket that keeps sending past the operation cap is closed with CLOSE_FLOODING (4429);
 * - a flood of operations leaves the process responsive (/ready answers);
 * - a client that stops reading is cut once MAX_BUFFERED_BYTES wait for it, or sooner, when the
 *   answers waiting for clients in the whole process pass their limit (it has waited longest).
 * The server carries on after each. The per-socket caps themselves are in websocketLimits.test.ts.
 */
import WebSocket from "ws";
import {
  CLOSE_FLOODING,
  MAX_BUFFERED_BYTES,
  MAX_OPERATIONS_PER_ADDRESS,
  MAX_OPERATIONS_PER_SOCKET,
  MAX_REFUSALS_PER_SOCKET,
  MAX_SOCKETS_PER_ADDRESS,
} from "../../src/platform/websocketLimits.ts";
import { startTestApp } from "../helpers/app.ts";
import { until } from "../helpers/wait.ts";
import {
  FLOOD,
  type Message,
  MODULES_QUERY,
  answerTo,
  app,
  byId,
  ids,
  isRateLimited,
  lockModules,
  openSocket,
  subscribeAll,
  useWebSocketApp,
} from "./websocketClient.ts";

useWebSocketApp();

// ——— Sockets per client address ———

/**
 * Opens a socket whose upgrade says it comes from `forwardedFor` (the test server trusts loopback
 * proxies); answers the socket or the refusal's status.
 */
function upgrade(
  forwardedFor: string,
): Promise<{ ws?: WebSocket; status?: number; body?: string; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(app.wsUrl, "graphql-transport-ws", { headers: { "x-forwarded-for": forwardedFor } });
    ws.once("open", () => resolve({ ws }));
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += String(chunk)));
      res.on("end", () => resolve({ status: res.statusCode, body, retryAfter: res.headers["retry-after"] }));
    });
    ws.once("error", (error) => (ws.readyState === ws.CLOSED ? undefined : reject(error)));
  });
}

test(
  `at most ${MAX_SOCKETS_PER_ADDRESS} sockets per client address: one more upgrade is answered 429; ` +
    "another address connects; closing one lets a new one in",
  async () => {
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
    expect(JSON.parse(refused.body!)).toMatchObject({
      error: {
        code: "RATE_LIMITED",
        message: `At most ${MAX_SOCKETS_PER_ADDRESS} WebSockets per client address.`,
        details: { reason: "TOO_MANY_SOCKETS", limit: MAX_SOCKETS_PER_ADDRESS },
      },
    });
    expect(refused.retryAfter).toBe("5");

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

    await Promise.all(
      open.map(
        (ws) =>
          new Promise<void>((resolve) => {
            ws.once("close", () => resolve());
            ws.close(1000);
          }),
      ),
    );
  },
);

test(
  `at most ${MAX_OPERATIONS_PER_ADDRESS} operations in flight per client address, over all its sockets; ` +
    "the rest are refused RATE_LIMITED and every admitted one is answered",
  async () => {
    const sockets = MAX_OPERATIONS_PER_ADDRESS / MAX_OPERATIONS_PER_SOCKET + 1;
    const open = await Promise.all(
      Array.from({ length: sockets }, () => openSocket(app, { forwardedFor: "203.0.113.60" })),
    );
    const unlock = await lockModules(app);
    let refused: Message[][] = [];
    try {
      // Every socket within its own cap; together one socket's worth over the address's.
      open.forEach((socket, i) => subscribeAll(socket, ids(`s${i}-`, MAX_OPERATIONS_PER_SOCKET), MODULES_QUERY));
      const total = sockets * MAX_OPERATIONS_PER_SOCKET;
      const over = total - MAX_OPERATIONS_PER_ADDRESS;
      const refusals = () =>
        open.flatMap((socket) => [...byId(socket).values()].filter((messages) => isRateLimited(messages)));
      await until(() => refusals().length >= over, `${over} refusals while the modules are locked`);
      refused = refusals();
      expect(refused).toHaveLength(over);
    } finally {
      await unlock();
    }
    expect((refused[0]![0]!.payload as Array<{ extensions: unknown }>)[0]!.extensions).toMatchObject({
      code: "RATE_LIMITED",
      details: { reason: "TOO_MANY_OPERATIONS", limit: MAX_OPERATIONS_PER_ADDRESS },
    });
    // The admitted ones all complete once the lock is gone.
    await until(
      () =>
        open.every((socket) =>
          [...byId(socket).values()].every((messages) =>
            messages.some((message) => message.type === "complete" || message.type === "error"),
          ),
        ) && open.reduce((sum, socket) => sum + byId(socket).size, 0) === sockets * MAX_OPERATIONS_PER_SOCKET,
      "an answer to every operation",
    );
    await Promise.all(
      open.map(async (socket) => {
        socket.ws.close(1000);
        await socket.closed;
      }),
    );
  },
);

// ——— A flood stays cheap ———

test(
  `a socket that keeps sending past the cap is closed with ${CLOSE_FLOODING} ` +
    `after ${MAX_REFUSALS_PER_SOCKET} refusals; the next socket works`,
  async () => {
    // Fails on the code before the flood guard: the socket stays open and every message is refused one by one.
    const socket = await openSocket(app);
    const seen = byId(socket);
    const flood = ids("f", FLOOD + 50);
    const unlock = await lockModules(app);
    try {
      subscribeAll(socket, flood, MODULES_QUERY);
      expect((await socket.closed).code).toBe(CLOSE_FLOODING);
    } finally {
      await unlock();
    }
    // Only operations over the cap were answered, each with one RATE_LIMITED, and every refusal owed
    // was sent before the close (the one past the limit included); nothing after it is handled.
    const answered = flood.filter((id) => seen.has(id));
    const admitted = new Set(flood.slice(0, MAX_OPERATIONS_PER_SOCKET));
    expect(answered.filter((id) => admitted.has(id) || !isRateLimited(seen.get(id)))).toEqual([]);
    expect(answered).toEqual(
      flood.slice(MAX_OPERATIONS_PER_SOCKET, MAX_OPERATIONS_PER_SOCKET + MAX_REFUSALS_PER_SOCKET + 1),
    );
    const next = await openSocket(app);
    next.ws.send(JSON.stringify({ id: "fine", type: "subscribe", payload: { query: "{ __typename }" } }));
    expect(await answerTo(next, "fine")).toMatchObject({ type: "next", payload: { data: { __typename: "Query" } } });
    next.ws.close(1000);
  },
);

test("while 5 sockets each send 5,000 queries without waiting, /ready answers 200", async () => {
  // Fails on the code before the cap: all 25,000 run at once and /ready does not answer.
  const sockets = await Promise.all(Array.from({ length: 5 }, () => openSocket(app)));
  const seen = sockets.map(byId);
  const flood = ids("r", 5_000);
  for (const socket of sockets) subscribeAll(socket, flood, MODULES_QUERY);
  // A failure bound, not a timing: two test runs share two cores.
  const ready = await fetch(`${app.url}/ready`, { signal: AbortSignal.timeout(45_000) });
  expect(ready.status).toBe(200);
  // Each socket's flood ends: its last message answered, or the socket closed as flooding.
  // A failure bound too: the 25,000 take some 15 s alone, and several times that beside another run.
  await until(
    () => seen.every((byId, i) => byId.has(flood.at(-1)!) || sockets[i]!.ws.readyState === WebSocket.CLOSED),
    "every flood to end",
    150_000,
  );
  // What was answered was run or refused over the cap (frames are taken a turn each, so the flood
  // may stay under the cap).
  for (const byId of seen)
    for (const messages of byId.values()) expect(messages[0]!.type === "next" || isRateLimited(messages)).toBe(true);
  for (const socket of sockets) socket.ws.close(1000);
}, 240_000);

// ——— A client that does not read ———

test(
  `a client that stops reading is cut once more than ${MAX_BUFFERED_BYTES} bytes wait for it; ` +
    "others are unaffected",
  async () => {
    // Fails on the code before the guard: the server queues the answers until the keepalive, much
    // later, finds the client dead (which logs nothing of the kind).
    const logLines: string[] = [];
    const own = await startTestApp({ logLines });
    try {
      const bystander = await openSocket(own);
      const stalled = await openSocket(own);
      // Stops reading: what the server sends piles up in the kernel's buffers, then in the server.
      (stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      // 100 operations, each two full introspections (~130 kB apiece): some 26 MB of answers.
      const schema =
        "__schema { types { name description fields { name description " +
        "args { name description type { name kind ofType { name kind } } } " +
        "type { name kind ofType { name kind } } } } }";
      subscribeAll(stalled, ids("big", MAX_OPERATIONS_PER_SOCKET), `{ a: ${schema} b: ${schema} }`);
      const open = async () =>
        Number(/^tessera_websocket_connections (\d+)$/m.exec(await (await fetch(`${own.url}/metrics`)).text())?.[1]);
      expect(await open()).toBe(2);
      await until(
        () => logLines.some((line) => line.includes("websocket client does not read; terminated")),
        "the stalled socket to be cut",
        60_000,
      );
      await until(async () => (await open()) === 1, "the open-socket gauge to count the bystander only");
      bystander.ws.send(JSON.stringify({ id: "still", type: "subscribe", payload: { query: "{ __typename }" } }));
      expect(await answerTo(bystander, "still")).toMatchObject({
        type: "next",
        payload: { data: { __typename: "Query" } },
      });
      bystander.ws.close(1000);
      stalled.ws.terminate();
    } finally {
      await own.stop();
    }
  },
);

test("past the process's bytes of unread answers, the socket waiting longest is cut; the rest go on", async () => {
  // Fails on the code before: nothing but each socket's own MAX_BUFFERED_BYTES bounded what waited
  // for WebSocket clients, some 8 MiB a socket (the cut comes at a send, past one more message), so
  // 50 sockets of an address could hold 400 MiB. The limit here is below one socket's own.
  const logLines: string[] = [];
  const limit = 1024 * 1024;
  const own = await startTestApp({ logLines, maxUnsentBytes: limit });
  try {
    const bystander = await openSocket(own);
    const stalled = await openSocket(own);
    (stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const schema = "__schema { types { name description fields { name description type { name kind } } } }";
    subscribeAll(stalled, ids("big", MAX_OPERATIONS_PER_SOCKET), `{ a: ${schema} b: ${schema} }`);
    await until(
      () => logLines.some((line) => line.includes("the connection waiting longest is cut")),
      "the stalled socket to be cut",
      30_000,
    );
    const gauge = async (name: string) =>
      Number(new RegExp(`^${name} (\\d+)$`, "m").exec(await (await fetch(`${own.url}/metrics`)).text())?.[1]);
    await until(async () => (await gauge("tessera_websocket_connections")) === 1, "the bystander alone to be open");
    await until(async () => (await gauge("tessera_unsent_answer_bytes")) === 0, "nothing left unsent");
    const cut = logLines.find((line) => line.includes("the connection waiting longest is cut"))!;
    expect(JSON.parse(cut)).toMatchObject({ level: 40, limit, unsentBytes: expect.any(Number) });
    expect(logLines.some((line) => line.includes("websocket client does not read; terminated"))).toBe(false);
    bystander.ws.send(JSON.stringify({ id: "still", type: "subscribe", payload: { query: `{ ${schema} }` } }));
    expect(await answerTo(bystander, "still")).toMatchObject({ type: "next", payload: { data: { __schema: {} } } });
    bystander.ws.close(1000);
    stalled.ws.terminate();
  } finally {
    await own.stop();
  }
});
