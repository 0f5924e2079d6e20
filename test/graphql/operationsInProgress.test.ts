/**
 * GraphQL operations in progress at once in the process, over HTTP and WebSocket alike: past
 * MAX_OPERATIONS_IN_PROGRESS an operation waits its turn, and past the waiting one client address
 * may have, an HTTP request is refused at once. One client posting 1,000 distinct 240-field queries
 * at once had filled the heap and ended the process (bench/README.md, "Heavy floods").
 */
import http from "node:http";
import { GRAPHQL_WAITING, MAX_OPERATIONS_IN_PROGRESS } from "../../src/platform/http/graphqlAdmission.ts";
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

/** A figure of tessera_graphql_operations on /metrics. */
async function operations(state: "in_progress" | "waiting"): Promise<number> {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  return Number(new RegExp(`^tessera_graphql_operations\\{state="${state}"\\} (\\d+)$`, "m").exec(text)?.[1]);
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
