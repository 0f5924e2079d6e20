/**
 * Notification fan-out: N WebSocket subscribers to `notificationAdded`, all participants of one
 * event; a manager cancels it; measured from the mutation to the last subscriber's receipt. The
 * path is the real one: mutation → trigger → job → batched inserts → NOTIFY → each subscription
 * reads its row back under RLS. Baseline in the same run: one subscriber.
 * Usage: node bench/notification-fanout.ts [sizes=1,100,1000]
 */
import { MODULES } from "../src/modules/index.ts";
import type { AddressInfo } from "node:net";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { createTesseraServer } from "../src/platform/server.ts";
import { startWorker } from "../src/platform/worker/runner.ts";
import { benchSession, benchTenant, benchUser, openBench } from "./harness.ts";

const sizes = (process.argv[2] ?? "1,100,1000").split(",").map(Number);
const bench = await openBench();
const { config, logger, database, owner } = bench;
const server = await createTesseraServer({
  modules: MODULES,
  config: { ...config, isProduction: true },
  database: database.urls,
  logger,
});
await new Promise<void>((resolve) => server.httpServer.listen(0, "127.0.0.1", resolve));
const port = (server.httpServer.address() as AddressInfo).port;
const worker = await startWorker({
  modules: MODULES,
  connectionString: database.urls.ownerUrl,
  concurrency: 4,
  logger,
  mail: config.mail,
});

async function userWithToken(tenantId: string, username: string, role: string): Promise<{ id: string; token: string }> {
  const id = await benchUser(bench, tenantId, username, role);
  return { id, token: (await benchSession(bench, id, tenantId, role)).token };
}

async function run(size: number): Promise<number> {
  const tenantId = await benchTenant(bench, `fanout-${size}-${Date.now()}`);
  // In-app notifications only: the bench measures the live path, not SMTP.
  await owner.query(
    `update app_public.tenant_modules set settings = '{"emailNotifications": false}'
     where tenant_id = $1 and module = 'events'`,
    [tenantId],
  );
  const manager = await userWithToken(tenantId, `manager-${size}`, "manager");
  const eventId = (
    await owner.query<{ id: string }>(
      `insert into app_public.events (tenant_id, name, starts_at, ends_at)
       values ($1, 'Fan-out', now() + interval '30 days', now() + interval '31 days') returning id`,
      [tenantId],
    )
  ).rows[0]!.id;
  const members = [];
  for (let i = 0; i < size; i++) members.push(await userWithToken(tenantId, `m${size}-${i}`, "member"));
  await owner.query(
    "insert into app_public.event_participants (tenant_id, event_id, user_id) select $1, $2, unnest($3::uuid[])",
    [tenantId, eventId, members.map((m) => m.id)],
  );

  let received = 0;
  let lastAt = 0;
  let done: () => void = () => {};
  const all = new Promise<void>((resolve) => (done = resolve));
  const clients: Client[] = members.map((member) =>
    createClient({
      url: `ws://127.0.0.1:${port}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${member.token}` },
      lazy: false,
      retryAttempts: 0,
    }),
  );
  // Subscribe, then prove each socket is up with a query over it.
  for (const client of clients) {
    client.subscribe(
      { query: "subscription { notificationAdded { notification { kind } } }" },
      {
        next: () => {
          lastAt = performance.now();
          if (++received === size) done();
        },
        error: () => {},
        complete: () => {},
      },
    );
  }
  await Promise.all(
    clients.map(
      (client) =>
        new Promise((resolve, reject) =>
          client.subscribe({ query: "{ __typename }" }, { next: resolve, error: reject, complete: () => {} }),
        ),
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, 500));

  const started = performance.now();
  const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${manager.token}` },
    body: JSON.stringify({
      query: "mutation ($id: UUID!) { rejectEvent(input: { eventId: $id }) { event { rejectedAt } } }",
      variables: { id: eventId },
    }),
  });
  if (!response.ok) throw new Error(await response.text());
  await Promise.race([
    all,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${received}/${size} received`)), 60_000)),
  ]);
  await Promise.all(clients.map((client) => client.dispose()));
  return lastAt - started;
}

const results: Array<{ subscribers: number; ms: number }> = [];
for (const size of sizes) results.push({ subscribers: size, ms: await run(size) });
const base = results[0]!.ms;
process.stdout.write("\nNotification fan-out: rejectEvent mutation → last subscriber receives its notification\n");
for (const r of results)
  process.stdout.write(
    `${String(r.subscribers).padStart(6)} subscribers   ${r.ms.toFixed(0).padStart(6)} ms   ` +
      `${(r.ms / base).toFixed(1).padStart(6)}× one subscriber\n`,
  );

await worker.stop();
await server.close();
await bench.close();
