/**
 * Named queues (one job at a time per queue: a tenant's bot pushes, a bot's broadcast batches, a
 * tenant's builds) move as fast as their jobs finish: the next job starts when the one before it
 * is done or has failed, announced by the database, not at the worker's next poll.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { bot, createStore } from "../commerce/store.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { until } from "../helpers/wait.ts";

let app: TestApp;
beforeAll(async () => {
  // A poll no test outlives: a job the database does not announce is never run here.
  app = await startTestApp({ worker: true, workerPollIntervalMs: 3_600_000 });
});
afterAll(() => app.stop());

/** A store whose bot pushes to a local receiver answering `answer(n)` to its n-th push (from 0). */
async function pushingStore(answer: (n: number) => number) {
  const received: string[] = [];
  const receiver = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const { id } = JSON.parse(Buffer.concat(chunks).toString()) as { id: string };
    response.writeHead(answer(received.length)).end();
    received.push(id);
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const store = await createStore(app);
  const set = await fetch(`${app.url}/api/bot/webhook`, {
    method: "PUT",
    headers: { "content-type": "application/json", "x-api-key": store.apiKey, "x-bot-id": store.botId },
    body: JSON.stringify({ url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` }),
  });
  expect(set.status).toBe(200);
  await bot(app, store).post("/api/bot/customers", { telegramId: 42 });
  const recordEvents = async (count: number) => {
    const recorded: string[] = [];
    for (let i = 0; i < count; i++) {
      const { rows } = await app.db.ownerPool.query<{ id: string }>(
        `select app_private.record_bot_event(tenant_id, id, 'payment.failed', '{}'::jsonb)::text as id
         from app_public.bots where id = $1`,
        [store.botId],
      );
      recorded.push(rows[0]!.id);
    }
    return recorded;
  };
  return { store, received, recordEvents, close: () => new Promise((resolve) => receiver.close(resolve)) };
}

test("a tenant's bot pushes, one queue, go out one after another without waiting for a poll", async () => {
  const pushing = await pushingStore(() => 204);
  try {
    const recorded = await pushing.recordEvents(4);
    // The jobs may be done already; their named queue stays.
    const queue = await app.db.ownerPool.query(
      "select 1 from graphile_worker._private_job_queues where queue_name = $1",
      [`bot_events_${pushing.store.tenant.id}`],
    );
    expect(queue.rowCount).toBe(1);

    await until(() => pushing.received.length >= 4, "four pushes");
    expect(pushing.received).toEqual(recorded);
  } finally {
    await pushing.close();
  }
});

test("a burst of events at once (payments settled together): every push goes out without a poll", async () => {
  const pushing = await pushingStore(() => 204);
  try {
    // Each in its own transaction, all at once: their announcements wake every runner of the worker
    // together, whose fetches meet.
    const recorded = (await Promise.all(Array.from({ length: 30 }, () => pushing.recordEvents(1)))).flat();
    await until(() => pushing.received.length >= 30, "thirty pushes");
    expect(pushing.received.toSorted()).toEqual(recorded.toSorted());
  } finally {
    await pushing.close();
  }
});

test("a push that fails frees its queue: the pushes behind it go out at once", async () => {
  const pushing = await pushingStore((n) => (n === 0 ? 500 : 204));
  try {
    const recorded = await pushing.recordEvents(3);
    const attempts = async () =>
      (
        await app.db.ownerPool.query(
          `select event_id::text, status, delivered from app_private.bot_event_deliveries
           where event_id = any($1::bigint[]) and attempt = 1 order by event_id`,
          [recorded],
        )
      ).rows;
    // Logged after each answer: wait for the three logs, not for the receiver.
    await until(async () => (await attempts()).length >= 3, "three pushes logged");
    expect(pushing.received.slice(0, 3)).toEqual(recorded);
    const rows = await attempts();
    expect(rows).toEqual([
      { event_id: recorded[0], status: 500, delivered: false },
      { event_id: recorded[1], status: 204, delivered: true },
      { event_id: recorded[2], status: 204, delivered: true },
    ]);
  } finally {
    await pushing.close();
  }
});
