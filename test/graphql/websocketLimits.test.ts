/**
 * Limits of GraphQL over WebSocket:
 * - the body cap of GraphQL over HTTP (grafserv's maxRequestLength, 100,000 bytes): a bigger
 *   message closes the socket with 1009 (message too big) before it is parsed;
 * - at most MAX_OPERATIONS_PER_SOCKET (100) operations in flight per socket, queries and
 *   subscriptions alike: one more is answered at once with an `error` RATE_LIMITED, and the count
 *   is released when an operation ends (it never leaks).
 * The server carries on after each. Floods (sockets per address, refusals, a client that does not
 * read) are in websocketFlooding.test.ts, connection_init authorization in
 * websocketAuthorization.test.ts.
 */
import { MAX_OPERATIONS_PER_SOCKET, MAX_REFUSALS_PER_SOCKET } from "../../src/platform/websocketLimits.ts";
import { listening } from "../helpers/app.ts";
import { createTenant, createUser } from "../helpers/fixtures.ts";
import { until } from "../helpers/wait.ts";
import {
  FLOOD,
  MODULES_QUERY,
  type Message,
  type RawSocket,
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

const MAX_REQUEST_LENGTH = 100_000;

/** A query document of exactly `bytes` bytes once wrapped in its subscribe message. */
function subscribeMessage(id: string, bytes: number): string {
  const empty = JSON.stringify({ id, type: "subscribe", payload: { query: "{ __typename }\n#" } });
  const padded = JSON.stringify({
    id,
    type: "subscribe",
    payload: { query: `{ __typename }\n#${"x".repeat(bytes - Buffer.byteLength(empty))}` },
  });
  expect(Buffer.byteLength(padded)).toBe(bytes);
  return padded;
}

test("a message of exactly the HTTP body cap runs", async () => {
  const socket = await openSocket(app);
  socket.ws.send(subscribeMessage("at-cap", MAX_REQUEST_LENGTH));
  expect(await answerTo(socket, "at-cap")).toEqual({
    id: "at-cap",
    type: "next",
    payload: { data: { __typename: "Query" } },
  });
  socket.ws.close(1000);
});

test("a message one byte over the cap closes the socket with 1009 before it runs; the server carries on", async () => {
  const socket = await openSocket(app);
  socket.ws.send(subscribeMessage("over-cap", MAX_REQUEST_LENGTH + 1));
  expect(await answerTo(socket, "over-cap")).toEqual({ type: "closed", code: 1009 });
  expect(socket.messages.filter((message) => message.id === "over-cap")).toEqual([]);

  // A 1.8 MB document (100k aliases) never reaches the parser either.
  const big = await openSocket(app);
  const aliases = Array.from({ length: 100_000 }, (_, i) => `a${i}: __typename`).join(" ");
  big.ws.send(JSON.stringify({ id: "aliases", type: "subscribe", payload: { query: `{ ${aliases} }` } }));
  expect(await answerTo(big, "aliases")).toEqual({ type: "closed", code: 1009 });

  // The process is unharmed: a new socket and an HTTP request both work.
  const after = await openSocket(app);
  after.ws.send(subscribeMessage("after", 200));
  expect(await answerTo(after, "after")).toMatchObject({ type: "next", payload: { data: { __typename: "Query" } } });
  after.ws.close(1000);
  expect((await app.graphql("{ __typename }")).body).toEqual({ data: { __typename: "Query" } });
});

// ——— Operations in flight per socket ———

const NOTIFICATIONS = "subscription { notificationAdded { notification { title } } }";

/** Leaves room for the refusals of a further full batch while the subscriptions live. */
const SUBSCRIPTION_FLOOD = MAX_OPERATIONS_PER_SOCKET + MAX_REFUSALS_PER_SOCKET / 2;

/**
 * With `modules` locked, sends MAX + 1 `modules` queries at once; answers how many were refused.
 * Once the last one is refused every earlier one has been admitted or refused (a socket's
 * messages are taken in order). Then unlocks and waits for every one to be answered, so that the
 * socket is left as it was. If places were freed while the batch was taken, its last one may be
 * admitted too and wait for the lock: after `lastAnswerMs` the answer is then `undefined`.
 */
async function refusalsOfAFullBatch(
  socket: RawSocket,
  seen: Map<string, Message[]>,
  prefix: string,
  lastAnswerMs = 20_000,
): Promise<number | undefined> {
  const batch = ids(prefix, MAX_OPERATIONS_PER_SOCKET + 1);
  const unlock = await lockModules(app);
  try {
    subscribeAll(socket, batch, MODULES_QUERY);
    const answered = await until(
      () => seen.has(batch.at(-1)!),
      `an answer to ${batch.at(-1)} while the others wait`,
      lastAnswerMs,
    ).then(
      () => true,
      () => false,
    );
    if (!answered) return undefined;
  } finally {
    await unlock();
  }
  await until(
    () => batch.every((id) => seen.get(id)?.some((message) => message.type === "complete" || message.type === "error")),
    `answers to ${prefix}*`,
  );
  return batch.filter((id) => isRateLimited(seen.get(id))).length;
}

/**
 * Completes `operations` and waits until their places are free: a full batch again has exactly
 * one refusal. The server frees them as it handles the `complete` messages; a batch sent meanwhile
 * may find only some free (then it is sent again).
 */
async function completeAndSeeFreed(
  socket: RawSocket,
  seen: Map<string, Message[]>,
  operations: string[],
  prefix: string,
) {
  for (const id of operations) socket.ws.send(JSON.stringify({ id, type: "complete" }));
  await untilPlacesFree(socket, seen, prefix);
}

/** Until a full batch plus one has exactly its last refused: every earlier operation's place is free. */
async function untilPlacesFree(socket: RawSocket, seen: Map<string, Message[]>, prefix: string) {
  let attempt = 0;
  await until(
    async () => (await refusalsOfAFullBatch(socket, seen, `${prefix}-${attempt++}-`, 2_000)) === 1,
    `the places of the ended operations (${prefix}) to be free`,
    60_000,
  );
}

test(
  `${FLOOD} queries sent at once on one socket: ${MAX_OPERATIONS_PER_SOCKET} run, the rest are RATE_LIMITED at once; ` +
    "once they end, the socket runs a full batch again (the count does not leak)",
  async () => {
    // Fails on the code before the cap: no RATE_LIMITED, every query waits for the lock.
    const socket = await openSocket(app);
    const seen = byId(socket);
    const flood = ids("q", FLOOD);
    const unlock = await lockModules(app);
    try {
      subscribeAll(socket, flood, MODULES_QUERY);
      const refused = flood.slice(MAX_OPERATIONS_PER_SOCKET);
      await until(() => refused.every((id) => seen.has(id)), "the refusals of the operations over the cap");
      for (const id of refused) expect(isRateLimited(seen.get(id))).toBe(true);
      expect(seen.get(refused[0]!)![0]!.payload).toEqual([
        expect.objectContaining({
          extensions: {
            code: "RATE_LIMITED",
            details: { reason: "TOO_MANY_OPERATIONS", limit: MAX_OPERATIONS_PER_SOCKET },
          },
        }),
      ]);
      // The first 100 are in flight: waiting for the lock, not answered.
      expect(flood.slice(0, MAX_OPERATIONS_PER_SOCKET).filter((id) => seen.has(id))).toEqual([]);
    } finally {
      await unlock();
    }
    const admitted = flood.slice(0, MAX_OPERATIONS_PER_SOCKET);
    await until(
      () => admitted.every((id) => seen.get(id)?.some((message) => message.type === "complete")),
      "the admitted queries to complete",
    );
    for (const id of admitted) expect(seen.get(id)!.map((message) => message.type)).toEqual(["next", "complete"]);
    expect(seen.get("q0")![0]!.payload).toMatchObject({ data: { modules: { nodes: expect.any(Array) } } });

    // Every place is free again, and the cap still holds: of 101 queries exactly the last is refused.
    expect(await refusalsOfAFullBatch(socket, seen, "again")).toBe(1);
    expect(await refusalsOfAFullBatch(socket, seen, "and-again")).toBe(1);
    socket.ws.close(1000);
  },
);

test(
  `subscriptions count the same: of ${SUBSCRIPTION_FLOOD} on one member socket ${MAX_OPERATIONS_PER_SOCKET} live, ` +
    "the rest RATE_LIMITED; completing them frees their places",
  async () => {
    // Fails on the code before the cap: all of them are admitted, none refused.
    const tenant = await createTenant(app.db.ownerPool);
    const member = await createUser(app.db.ownerPool, tenant, "member");
    const socket = await openSocket(app, { payload: { authorization: `Bearer ${member.token}` } });
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
      "insert into app_public.instant_notifications (tenant_id, recipient_id, kind, title, content) " +
        "values ($1, $2, 'test', 'to all', 'x')",
      [tenant.id, member.id],
    );
    await until(
      () => live.every((id) => seen.get(id)?.some((message) => message.type === "next")),
      "the notification on every live subscription",
    );

    // While they live, no further operation is admitted; once the client completes them, all are.
    expect(await refusalsOfAFullBatch(socket, seen, "while-live")).toBe(MAX_OPERATIONS_PER_SOCKET + 1);
    await completeAndSeeFreed(socket, seen, live, "after-complete");
    socket.ws.close(1000);
  },
);

test("a completed subscription frees its place as its complete arrives: new ones sent right after it run", async () => {
  // Fails on the code that freed the place only once the completed operation had wound down: of
  // ten subscriptions sent right behind ten completes, some were refused with 90 in flight.
  const tenant = await createTenant(app.db.ownerPool);
  const member = await createUser(app.db.ownerPool, tenant, "member");
  const socket = await openSocket(app, { payload: { authorization: `Bearer ${member.token}` } });
  const seen = byId(socket);
  const live = ids("live", MAX_OPERATIONS_PER_SOCKET);
  subscribeAll(socket, live, NOTIFICATIONS);
  // All live: a probe behind them is refused.
  subscribeAll(socket, ["full"], MODULES_QUERY);
  await until(() => seen.has("full"), "the probe's refusal");
  expect(isRateLimited(seen.get("full"))).toBe(true);
  // Running, each of them: a notification reaches every one (one still being prepared when its
  // complete arrives keeps its place until it has ended, as documented).
  await listening(app, `user:${member.id}:notifications`);
  await until(async () => {
    await app.db.ownerPool.query(
      "insert into app_public.instant_notifications (tenant_id, recipient_id, kind, title, content) " +
        "values ($1, $2, 'test', 'running', 'x')",
      [tenant.id, member.id],
    );
    return live.every((id) => seen.get(id)?.some((message) => message.type === "next"));
  }, "a notification on every live subscription");

  const completed = live.slice(0, 10);
  const fresh = ids("fresh", 10);
  for (const id of completed) socket.ws.send(JSON.stringify({ id, type: "complete" }));
  subscribeAll(socket, fresh, NOTIFICATIONS);
  // The ten places went to the ten new subscriptions, so the socket is full again: a probe sent
  // after them is refused, and by then none of them has been answered with a refusal.
  subscribeAll(socket, ["full-again"], MODULES_QUERY);
  await until(() => seen.has("full-again"), "the second probe's answer");
  expect(fresh.filter((id) => seen.has(id))).toEqual([]);
  expect(isRateLimited(seen.get("full-again"))).toBe(true);
  socket.ws.close(1000);
});

test("a query completed by the client while it runs keeps its place until it has ended", async () => {
  // Its SQL runs on whatever the client says: freed at the complete, a client could start queries
  // without end by completing each one.
  const socket = await openSocket(app);
  const seen = byId(socket);
  const waiting = ids("waiting", MAX_OPERATIONS_PER_SOCKET);
  const unlock = await lockModules(app);
  try {
    subscribeAll(socket, waiting, MODULES_QUERY);
    for (const id of waiting) socket.ws.send(JSON.stringify({ id, type: "complete" }));
    subscribeAll(socket, ["one-more"], MODULES_QUERY);
    await until(() => seen.has("one-more"), "the answer to one more query");
    expect(isRateLimited(seen.get("one-more"))).toBe(true);
  } finally {
    await unlock();
  }
  // Once they have ended, their places are free.
  await untilPlacesFree(socket, seen, "ended");
  socket.ws.close(1000);
});

test("an id completed while being prepared, then reused, runs one subscription that complete ends", async () => {
  // Fails on graphql-ws alone: the first subscription, finding its id taken again, ran on unseen —
  // each notification came twice, and no `complete` (nor the socket's close) reached it.
  const tenant = await createTenant(app.db.ownerPool);
  const member = await createUser(app.db.ownerPool, tenant, "member");
  const socket = await openSocket(app, { payload: { authorization: `Bearer ${member.token}` } });
  const seen = byId(socket);
  const reused = ids("r", 40);
  const subscribe = (id: string) => JSON.stringify({ id, type: "subscribe", payload: { query: NOTIFICATIONS } });
  const complete = (id: string) => JSON.stringify({ id, type: "complete" });
  // Half of them completed and subscribed once, half twice, each in one burst.
  reused.forEach((id, i) => {
    const burst = i % 2 ? [subscribe, complete, subscribe, complete, subscribe] : [subscribe, complete, subscribe];
    for (const frame of burst) socket.ws.send(frame(id));
  });
  // Notifications until every id has had one (the last subscriptions may still be starting).
  await listening(app, `user:${member.id}:notifications`);
  let sent = 0;
  await until(async () => {
    await app.db.ownerPool.query(
      "insert into app_public.instant_notifications (tenant_id, recipient_id, kind, title, content) " +
        "values ($1, $2, 'test', $3, 'x')",
      [tenant.id, member.id, `n${sent++}`],
    );
    return reused.every((id) => seen.get(id)?.some((message) => message.type === "next"));
  }, "a notification on every reused id");
  await until(
    () => reused.every((id) => seen.get(id)?.some((m) => JSON.stringify(m.payload).includes(`"n${sent - 1}"`))),
    "the last notification on every reused id",
  );
  // Each notification once per id.
  type Notification = { data: { notificationAdded: { notification: { title: string } } } };
  for (const id of reused) {
    const nexts = seen.get(id)!.filter((message) => message.type === "next");
    const titles = nexts.map((message) => (message.payload as Notification).data.notificationAdded.notification.title);
    expect([id, titles.length]).toEqual([id, new Set(titles).size]);
  }
  // Completed by the client, they free their places.
  await completeAndSeeFreed(socket, seen, reused, "after-reuse");
  socket.ws.close(1000);
});

test("messages held for their id's turn are capped too: one more than 100 closes the socket with 4429", async () => {
  const socket = await openSocket(app);
  const unlock = await lockModules(app);
  try {
    // `held` waits for the lock; completed, the id's next messages wait for it to end.
    subscribeAll(socket, ["held"], MODULES_QUERY);
    socket.ws.send(JSON.stringify({ id: "held", type: "complete" }));
    for (let i = 0; i <= MAX_OPERATIONS_PER_SOCKET; i++) {
      socket.ws.send(
        JSON.stringify({ id: "held", type: i % 2 ? "complete" : "subscribe", payload: { query: MODULES_QUERY } }),
      );
    }
    expect(await socket.closed).toEqual({ code: 4429, reason: "Too many operations in flight" });
  } finally {
    await unlock();
  }
  expect((await app.graphql("{ __typename }")).body).toEqual({ data: { __typename: "Query" } });
});

test("operations that fail (UNAUTHENTICATED, invalid documents) release their place", async () => {
  // Fails on the code before the cap: the 101st query of the last batch is not refused.
  const socket = await openSocket(app, { payload: { authorization: "Bearer not-a-token" } });
  const seen = byId(socket);
  const failing = ids("f", 3 * MAX_OPERATIONS_PER_SOCKET);
  for (const id of failing)
    socket.ws.send(
      JSON.stringify({ id, type: "subscribe", payload: { query: id.endsWith("0") ? "{ nope" : "{ __typename }" } }),
    );
  await until(() => failing.every((id) => seen.has(id)), "every failing operation's answer");
  expect(failing.filter((id) => seen.get(id)![0]!.type !== "error")).toEqual([]);
  socket.ws.close(1000);
  const anonymous = await openSocket(app);
  const seenAnonymous = byId(anonymous);
  subscribeAll(anonymous, ids("n", 2 * MAX_OPERATIONS_PER_SOCKET), NOTIFICATIONS);
  await until(
    () => ids("n", 2 * MAX_OPERATIONS_PER_SOCKET).every((id) => seenAnonymous.has(id)),
    "every anonymous subscription's refusal",
  );
  expect(await refusalsOfAFullBatch(anonymous, seenAnonymous, "after-failures")).toBe(1);
  anonymous.ws.close(1000);
});
