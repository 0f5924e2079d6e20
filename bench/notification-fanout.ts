/**
 * Notification fan-out: N WebSocket subscribers to `notificationAdded`, all participants of one
 * event; a manager cancels it; measured from the mutation to the last subscriber's receipt. The
 * path is the real one: mutation → trigger → job → batched inserts → NOTIFY → each subscription
 * reads its row back under RLS. Baseline in the same run: one subscriber.
 * Usage: node bench/notification-fanout.ts [sizes=1,100,1000]
 */
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { createClient, type Client } from "graphql-ws";
import pg from "pg";
import WebSocket from "ws";
import { randomToken, sha256 } from "../src/auth/secrets.ts";
import { signAccessToken } from "../src/auth/tokens.ts";
import { loadConfig } from "../src/config.ts";
import { migrateDatabase } from "../src/db/migrate.ts";
import { resolveDatabase } from "../src/db/resolve.ts";
import { createLogger } from "../src/logger.ts";
import { createTesseraServer } from "../src/server.ts";
import { startWorker } from "../src/worker/runner.ts";

const sizes = (process.argv[2] ?? "1,100,1000").split(",").map(Number);
const logger = createLogger("warn");
const config = loadConfig();
const database = await resolveDatabase(config, logger);
await migrateDatabase(database.urls, logger);
const owner = new pg.Pool({ connectionString: database.urls.ownerUrl });
const server = await createTesseraServer({ config: { ...config, isProduction: true }, database: database.urls, logger });
await new Promise<void>((resolve) => server.httpServer.listen(0, "127.0.0.1", resolve));
const port = (server.httpServer.address() as AddressInfo).port;
const worker = await startWorker({ connectionString: database.urls.ownerUrl, concurrency: 4, logger, mail: {} as never });

async function userWithToken(tenantId: string, username: string, role: string): Promise<{ id: string; token: string }> {
  const id = (await owner.query<{ id: string }>(
    "insert into app_public.users (tenant_id, email, username) values ($1, $2, $3) returning id", [tenantId, `${username}@example.test`, username],
  )).rows[0]!.id;
  await owner.query("insert into app_public.user_roles (user_id, role_id) select $1, id from app_public.roles where tenant_id = $2 and name = $3", [id, tenantId, role]);
  const sid = (await owner.query<{ id: string }>("select app_private.create_session($1, $2, interval '1 hour', 'bench', null) as id", [id, sha256(randomToken())])).rows[0]!.id;
  return { id, token: signAccessToken({ sub: id, tid: tenantId, sid, jti: randomUUID(), role }, config.auth.jwtSecret, 3600) };
}

async function run(size: number): Promise<number> {
  const slug = `fanout-${size}-${Date.now()}`;
  const tenantId = (await owner.query<{ id: string }>("insert into app_public.tenants (slug, name) values ($1, $2) returning id", [slug, slug])).rows[0]!.id;
  await owner.query("select app_private.ensure_tenant_identity($1)", [tenantId]);
  await owner.query(`insert into app_public.tenant_modules (tenant_id, module, settings) select $1, name, '{"emailNotifications": false}' from app_public.modules`, [tenantId]);
  const manager = await userWithToken(tenantId, `manager-${size}`, "manager");
  const eventId = (await owner.query<{ id: string }>(
    "insert into app_public.events (tenant_id, name, starts_at, ends_at) values ($1, 'Fan-out', now() + interval '30 days', now() + interval '31 days') returning id", [tenantId],
  )).rows[0]!.id;
  const members = [];
  for (let i = 0; i < size; i++) members.push(await userWithToken(tenantId, `m${size}-${i}`, "member"));
  await owner.query("insert into app_public.event_participants (tenant_id, event_id, user_id) select $1, $2, unnest($3::uuid[])", [tenantId, eventId, members.map((m) => m.id)]);

  let received = 0;
  let lastAt = 0;
  let done: () => void = () => {};
  const all = new Promise<void>((resolve) => (done = resolve));
  const clients: Client[] = members.map((member) => createClient({ url: `ws://127.0.0.1:${port}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${member.token}` }, lazy: false, retryAttempts: 0 }));
  // Subscribe, then prove each socket is up with a query over it.
  for (const client of clients) {
    client.subscribe({ query: "subscription { notificationAdded { notification { kind } } }" }, {
      next: () => {
        lastAt = performance.now();
        if (++received === size) done();
      },
      error: () => {},
      complete: () => {},
    });
  }
  await Promise.all(clients.map((client) => new Promise((resolve, reject) => client.subscribe({ query: "{ __typename }" }, { next: resolve, error: reject, complete: () => {} }))));
  await new Promise((resolve) => setTimeout(resolve, 500));

  const started = performance.now();
  const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${manager.token}` },
    body: JSON.stringify({ query: "mutation ($id: UUID!) { rejectEvent(input: { eventId: $id }) { event { rejectedAt } } }", variables: { id: eventId } }),
  });
  if (!response.ok) throw new Error(await response.text());
  await Promise.race([all, new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${received}/${size} received`)), 60_000))]);
  await Promise.all(clients.map((client) => client.dispose()));
  return lastAt - started;
}

const results: Array<{ subscribers: number; ms: number }> = [];
for (const size of sizes) results.push({ subscribers: size, ms: await run(size) });
const base = results[0]!.ms;
process.stdout.write("\nNotification fan-out: rejectEvent mutation → last subscriber receives its notification\n");
for (const r of results) process.stdout.write(`${String(r.subscribers).padStart(6)} subscribers   ${r.ms.toFixed(0).padStart(6)} ms   ${(r.ms / base).toFixed(1).padStart(6)}× one subscriber\n`);

await worker.stop();
await server.close();
await owner.end();
await database.stop();
