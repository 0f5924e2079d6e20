/**
 * GraphQL operations in progress at once in the process, over HTTP and WebSocket alike: past
 * MAX_OPERATIONS_IN_PROGRESS an operation waits its turn, and past the waiting one client address
 * may have, an HTTP request is refused at once. One client posting 1,000 distinct 240-field queries
 * at once had filled the heap and ended the process (bench/README.md, "Heavy floods").
 */
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import express from "express";
import { MAX_PIPELINED, UnsentAnswers } from "../../src/platform/http/answerBudget.ts";
import {
  GRAPHQL_WAITING,
  graphqlAdmission,
  MAX_OPERATIONS_IN_PROGRESS,
  MAX_RESPONSE_BYTES,
} from "../../src/platform/http/graphqlAdmission.ts";
import { FairSlots } from "../../src/platform/fairSlots.ts";
import { errorHandler } from "../../src/platform/http/errorHandler.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { createTenant, createUser } from "../helpers/fixtures.ts";
import { until } from "../helpers/wait.ts";
import {
  MODULES_QUERY,
  app,
  byId,
  ids,
  lockModules,
  openSocket,
  subscribeAll,
  useWebSocketApp,
} from "./websocketClient.ts";

useWebSocketApp();

/** One connection per request, all at once (no pooling that would send them one after another). */
const agent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });

interface Answer {
  status: number;
  body: { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
  retryAfter?: string;
}

function post(query: string): Promise<Answer> {
  const body = JSON.stringify({ query });
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${app.url}/graphql`,
      { method: "POST", agent, headers: { "content-type": "application/json", "content-length": body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode!,
            body: JSON.parse(Buffer.concat(chunks).toString()),
            retryAfter: res.headers["retry-after"],
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** A figure of tessera_graphql_concurrent_operations on /metrics. */
async function operations(state: "in_progress" | "waiting"): Promise<number> {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  const line = new RegExp(`^tessera_graphql_concurrent_operations\\{state="${state}"\\} (\\d+)$`, "m");
  return Number(line.exec(text)?.[1]);
}

test(`HTTP: past ${MAX_OPERATIONS_IN_PROGRESS} in progress requests wait; past ${GRAPHQL_WAITING.perAddress} waiting ` +
  "from one address they are refused 429 at once; the waiting are answered once places free", async () => {
  // Fails on the code before the bound: every request ran at once, none was refused.
  const unlock = await lockModules(app);
  const refusedCount = 5;
  const total = MAX_OPERATIONS_IN_PROGRESS + GRAPHQL_WAITING.perAddress + refusedCount;
  const answers: Answer[] = [];
  const pending = Array.from({ length: total }, () => post(MODULES_QUERY).then((answer) => void answers.push(answer)));
  try {
    // Nothing in progress can end while the table is locked: the refusals are exactly those past the line.
    await until(() => answers.length === refusedCount, `${refusedCount} refusals`, 30_000);
    for (const answer of answers) {
      expect(answer).toEqual({
        status: 429,
        retryAfter: "1",
        body: {
          errors: [
            {
              message:
                `At most ${GRAPHQL_WAITING.perAddress} GraphQL requests from one client address may wait for ` +
                "their turn; send fewer at once.",
              extensions: {
                code: "RATE_LIMITED",
                details: { reason: "TOO_MANY_REQUESTS_WAITING", limit: GRAPHQL_WAITING.perAddress },
              },
            },
          ],
        },
      });
    }
    expect([await operations("in_progress"), await operations("waiting")]).toEqual([
      MAX_OPERATIONS_IN_PROGRESS,
      GRAPHQL_WAITING.perAddress,
    ]);
  } finally {
    await unlock();
  }
  await Promise.all(pending);
  const served = answers.slice(refusedCount);
  expect(served).toHaveLength(MAX_OPERATIONS_IN_PROGRESS + GRAPHQL_WAITING.perAddress);
  for (const answer of served) expect(answer.status).toBe(200);
  expect(
    served.every((answer) => Array.isArray((answer.body.data as { modules?: { nodes?: unknown } }).modules?.nodes)),
  ).toBe(true);
  // The places are all given back: as many as before can be in progress and wait again.
  const after = await Promise.all(Array.from({ length: 3 }, () => post("{ __typename }")));
  expect(after.map((answer) => answer.status)).toEqual([200, 200, 200]);
  expect([await operations("in_progress"), await operations("waiting")]).toEqual([0, 0]);
}, 120_000);

test("WebSocket operations take the same places: with them all taken over a socket, HTTP requests wait", async () => {
  // Fails on the code before: a socket's operations held places only while they were prepared.
  const unlock = await lockModules(app);
  const socket = await openSocket(app);
  const seen = byId(socket);
  const held = ids("held", MAX_OPERATIONS_IN_PROGRESS);
  const answers: Answer[] = [];
  let pending: Array<Promise<void>> = [];
  try {
    subscribeAll(socket, held, MODULES_QUERY);
    // Each operation over the socket holds its place while it waits for the lock (or for a connection
    // of the pool, all of whose connections wait for it); the HTTP requests line up behind them, and
    // the one past the line is refused.
    await until(
      async () => (await operations("in_progress")) === MAX_OPERATIONS_IN_PROGRESS,
      "every place taken by the socket's queries",
      30_000,
    );
    pending = Array.from({ length: GRAPHQL_WAITING.perAddress + 1 }, () =>
      post("{ __typename }").then((answer) => void answers.push(answer)),
    );
    await until(() => answers.length === 1, "the one request past the line to be refused", 30_000);
    expect(answers[0]!.status).toBe(429);
    expect(held.some((id) => seen.has(id))).toBe(false);
  } finally {
    await unlock();
  }
  await Promise.all(pending);
  expect(answers.slice(1).every((answer) => answer.status === 200)).toBe(true);
  await until(() => held.every((id) => seen.get(id)?.some((m) => m.type === "complete")), "every held query's end");
  for (const id of held) expect(seen.get(id)![0]!.type).toBe("next");
  socket.ws.close(1000);
}, 120_000);

/** One raw HTTP/1.1 POST /graphql of `query`, as a pipelining client writes it. */
function rawPost(query: string): string {
  const body = JSON.stringify({ query });
  return (
    "POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

test(`one connection has at most ${MAX_PIPELINED} requests waiting for their answers; the rest are 429`, async () => {
  // Fails on the code before: every pipelined request waited, each holding a place until its answer
  // had gone out, which for a client that does not read was never.
  const unlock = await lockModules(app);
  const { port } = new URL(app.url);
  const socket = net.connect(Number(port), "127.0.0.1");
  let received = "";
  socket.on("data", (chunk) => (received += chunk.toString()));
  const sent = MAX_PIPELINED + 4;
  try {
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(Array.from({ length: sent }, () => rawPost(MODULES_QUERY)).join(""));
    // The first waits for the lock, in progress; the next ones wait for its answer, holding no place,
    // and those past them are refused, their answers queued behind the first's (one chunk: every
    // request is read before any is answered).
    await until(async () => (await operations("in_progress")) === 1, "the first request in progress");
    expect(await operations("waiting")).toBe(0);
  } finally {
    await unlock();
  }
  await until(() => (received.match(/HTTP\/1\.1 \d{3} /g) ?? []).length === sent, "every answer on the connection");
  socket.destroy();
  const statuses = [...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]));
  expect(statuses).toEqual([...Array(MAX_PIPELINED).fill(200), ...Array(sent - MAX_PIPELINED).fill(429)]);
  expect(received).toContain('"details":{"reason":"TOO_MANY_REQUESTS_WAITING","limit":8}');
}, 60_000);

test("a client pipelining heavy requests and never reading holds no place: another client is answered", async () => {
  // Fails on the code before: its pipelined requests kept every place until it left.
  const page = "modules(first: 7) { nodes { id name description } }";
  const heavy = `{ ${Array.from({ length: 199 }, (_, i) => `m${i}: ${page}`).join(" ")} }`;
  const { port } = new URL(app.url);
  const socket = net.connect(Number(port), "127.0.0.1");
  socket.on("error", () => {});
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.pause();
  socket.write(Array.from({ length: 60 }, () => rawPost(heavy)).join(""));
  try {
    // The first answers fill the socket's buffers; then nothing of this connection moves.
    await until(
      async () => (await operations("in_progress")) === 0 && (await operations("waiting")) === 0,
      "the pipelined ones to settle",
    );
    const answer = await post("{ __typename }");
    expect(answer).toMatchObject({ status: 200, body: { data: { __typename: "Query" } } });
  } finally {
    socket.destroy();
  }
}, 60_000);

test("an answer over MAX_RESPONSE_BYTES is replaced by QUERY_TOO_COMPLEX, over HTTP and WebSocket", async () => {
  // Fails on the code before: 100 aliases echoing a 50,000-character clientMutationId made a 5 MB
  // answer; ten clients leaving theirs unread filled the heap.
  const tenant = await createTenant(app.db.ownerPool);
  const member = await createUser(app.db.ownerPool, tenant, "member");
  const aliases = Array.from({ length: 100 }, (_, i) => `a${i}: ackAllNotifications(input: $i) { clientMutationId }`);
  const query = `mutation($i: AckAllNotificationsInput!) { ${aliases.join(" ")} }`;
  const variables = { i: { clientMutationId: "x".repeat(50_000) } };
  const tooLarge = {
    message: expect.stringMatching(/^The result is \d+ bytes, more than the 4194304 an answer may have/),
    extensions: {
      code: "QUERY_TOO_COMPLEX",
      details: { reason: "RESPONSE_TOO_LARGE", limit: MAX_RESPONSE_BYTES, bytes: expect.any(Number) },
    },
  };
  const overHttp = await app.graphql(query, variables, member.token);
  expect(overHttp.body).toEqual({ errors: [tooLarge] });
  const socket = await openSocket(app, { payload: { authorization: `Bearer ${member.token}` } });
  socket.ws.send(JSON.stringify({ id: "big", type: "subscribe", payload: { query, variables } }));
  await until(() => socket.messages.some((m) => m.id === "big" && m.type === "complete"), "the answer and its end");
  expect(socket.messages.filter((m) => m.id === "big")).toEqual([
    { id: "big", type: "next", payload: { errors: [tooLarge] } },
    { id: "big", type: "complete" },
  ]);
  // A smaller one goes through whole.
  const small = await app.graphql(query, { i: { clientMutationId: "y".repeat(1_000) } }, member.token);
  expect((small.body.data as Record<string, { clientMutationId: string }>).a99!.clientMutationId).toHaveLength(1_000);
  socket.ws.close(1000);
}, 60_000);

test("past its bytes, the answers waiting for their clients lose the oldest's connection first", () => {
  // Thirty connections that never read had grown the process by 25–30 MiB each, without end.
  const cut: string[] = [];
  const unsent = new UnsentAnswers(10);
  const keys = new Map<string, object>();
  const key = (name: string) => keys.get(name) ?? keys.set(name, { name }).get(name)!;
  const add = (name: string, bytes: number) => unsent.add(key(name), bytes, () => cut.push(name));
  const socket = key("socket");
  // An HTTP answer is counted whole until it has gone out; a WebSocket's messages add up on its socket.
  add("a", 4);
  add("socket", 2);
  add("socket", 2);
  expect(cut).toEqual([]);
  expect(unsent.bytes).toBe(8);
  add("c", 4);
  expect(cut).toEqual(["a"]);
  expect(unsent.bytes).toBe(8);
  // Gone out: the socket's first message, then the rest of it.
  unsent.sent(socket, 2);
  add("d", 4);
  expect(cut).toEqual(["a"]);
  unsent.sent(socket, 2);
  expect(unsent.bytes).toBe(8);
  // A socket whose wait starts again is the newest: c, waiting longest now, is cut first.
  add("socket", 3);
  expect(cut).toEqual(["a", "c"]);
  // What is removed (gone out, or its connection closed) no longer counts; a late `sent` changes nothing.
  unsent.remove(socket);
  unsent.sent(socket, 3);
  expect(unsent.bytes).toBe(4);
  add("e", 6);
  expect(cut).toEqual(["a", "c"]);
  add("f", 1);
  expect(cut).toEqual(["a", "c", "d"]);
});

test("past the waiting of one address a request is 429; past the waiting in all, 503 (small limits)", async () => {
  // The same middleware as /graphql's, on a server of its own with one place, 2 waiting per address
  // and 3 in all, so that the process-wide refusal is reached without thousands of sockets.
  const slots = new FairSlots(1);
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const small = express();
  small.set("trust proxy", true);
  small.use(graphqlAdmission(slots, { waiting: { perAddress: 2, total: 3 } }));
  small.use(async (_req, res) => {
    await released;
    res.json({ data: { ok: true } });
  });
  small.use(errorHandler(createLogger("silent")));
  const server = small.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  const from = (address: string) =>
    fetch(url, { method: "POST", headers: { "x-forwarded-for": address } }).then(async (response) => ({
      status: response.status,
      body: (await response.json()) as { errors?: Array<{ extensions: { code: string; details: unknown } }> },
    }));
  try {
    const running = from("192.0.2.1");
    await until(() => slots.inUse === 1, "the one place taken");
    const waiting = [from("192.0.2.1"), from("192.0.2.1")];
    await until(() => slots.waiting === 2, "two waiting from one address");
    expect((await from("192.0.2.1")).body.errors?.[0]?.extensions).toEqual({
      code: "RATE_LIMITED",
      details: { reason: "TOO_MANY_REQUESTS_WAITING", limit: 2 },
    });
    waiting.push(from("198.51.100.7"));
    await until(() => slots.waiting === 3, "three waiting in all");
    const refused = await from("203.0.113.9");
    expect(refused.status).toBe(503);
    expect(refused.body.errors?.[0]?.extensions).toEqual({
      code: "SERVICE_UNAVAILABLE",
      details: { reason: "TOO_MANY_REQUESTS_WAITING" },
    });
    release();
    const answered = await Promise.all([running, ...waiting]);
    expect(answered.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
  } finally {
    release();
    await new Promise((resolve) => server.close(resolve));
  }
});
