/**
 * A database worth backing up: the demo seed (`npm run seed`: tenant `demo`, its users, events and
 * store), a second tenant with a user, rows for every app_public table the seed leaves empty
 * (written as the owner role, as a fixture), and jobs in every state the queue knows.
 */
import type pg from "pg";
import { MODULES, loadConfig } from "../../../src/modules/index.ts";
import { seedDemo } from "../../../src/platform/db/seed.ts";
import { createTenant, createUser, TEST_JWT_SECRET, type TestUser } from "../../helpers/fixtures.ts";

export interface Filled {
  demoTenantId: string;
  /** A user of the other tenant: never visible to the demo tenant's people. */
  stranger: TestUser;
}

export async function fillDatabase(ownerPool: pg.Pool): Promise<Filled> {
  const client = await ownerPool.connect();
  let demoTenantId: string;
  try {
    const config = loadConfig({ APP_ENV: "test", JWT_SECRET: TEST_JWT_SECRET });
    demoTenantId = (await seedDemo(MODULES, client, false, config)).tenantId;
    await client.query("begin");
    await fillTheRest(client, demoTenantId);
    await queueJobs(client);
    await client.query("commit");
  } catch (error) {
    await client.query("rollback");
    throw error;
  } finally {
    client.release();
  }
  const stranger = await createUser(ownerPool, await createTenant(ownerPool, "backup-stranger"), "owner");
  return { demoTenantId, stranger };
}

/** One row (or a few) for each app_public table the demo seed leaves empty. */
async function fillTheRest(client: pg.PoolClient, tenantId: string): Promise<void> {
  const one = async (sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows[0];
  const { owner, member } = await one(
    `select (select id from app_public.users where tenant_id = $1 and email = 'owner@demo.test') as owner,
            (select id from app_public.users where tenant_id = $1 and email = 'member@demo.test') as member`,
    [tenantId],
  );
  const { bot, customer, product } = await one(
    `select (select id from app_public.bots where tenant_id = $1 limit 1) as bot,
            (select id from app_public.customers where tenant_id = $1 order by telegram_id limit 1) as customer,
            (select id from app_public.products where tenant_id = $1 order by name limit 1) as product`,
    [tenantId],
  );
  // A custom role and its grant (built-in roles read theirs from the catalogue, so no row here).
  await client.query(
    `with r as (insert into app_public.roles (tenant_id, name) values ($1, 'auditor') returning id)
     insert into app_public.role_permissions (role_id, permission) select id, 'orders.read' from r`,
    [tenantId],
  );
  await client.query(
    `insert into app_public.images (tenant_id, sha256, content_type, size, uploaded_by)
     values ($1, encode(sha256('backup'), 'hex'), 'image/png', 6, $2)`,
    [tenantId, owner],
  );
  await client.query(
    `insert into app_public.instant_notifications (tenant_id, recipient_id, kind, title, content)
     values ($1, $2, 'backup_check', 'Before the backup', 'Still here after the restore?')`,
    [tenantId, member],
  );
  await client.query(
    "insert into app_public.api_keys (tenant_id, name, prefix, created_by) values ($1, 'Backup key', 'tsk_bk', $2)",
    [tenantId, owner],
  );
  const order = await one(
    `insert into app_public.orders (tenant_id, bot_id, customer_id, status, total, currency, paid_at)
     values ($1, $2, $3, 'paid', 12.50, 'USD', now()) returning id`,
    [tenantId, bot, customer],
  );
  await client.query(
    `insert into app_public.order_items (tenant_id, order_id, product_id, quantity, unit_price)
     values ($1, $2, $3, 1, 12.50)`,
    [tenantId, order.id, product],
  );
  await client.query(
    `insert into app_public.payments (tenant_id, kind, order_id, customer_id, bot_id, amount, currency, provider,
                                      provider_payment_id, payment_url, status, paid_at)
     values ($1, 'order', $2, $3, $4, 12.50, 'USD', 'mock', 'mock-backup-1', 'http://127.0.0.1/pay/1', 'succeeded',
             now())`,
    [tenantId, order.id, customer, bot],
  );
  await client.query(
    `insert into app_public.bot_events (tenant_id, bot_id, type, payload)
     values ($1, $2, 'order.paid', jsonb_build_object('orderId', $3::uuid))`,
    [tenantId, bot, order.id],
  );
  await client.query(
    `insert into app_public.subscription_plans (product_id, tenant_id, provider_product_id, duration_days)
     values ($1, $2, 'plan-backup', 30)`,
    [product, tenantId],
  );
  await client.query(
    `insert into app_public.subscriptions (tenant_id, customer_id, order_id, product_id, status,
                                           provider_subscription_id, expires_at, issued_at)
     values ($1, $2, $3, $4, 'active', 'sub-backup-1', now() + interval '30 days', now())`,
    [tenantId, customer, order.id, product],
  );
  await fillBroadcast(client, tenantId, bot, customer, owner);
  await fillChat(client, tenantId, owner, member);
  await fillBuild(client, tenantId, owner);
}

async function fillBroadcast(client: pg.PoolClient, tenantId: string, bot: string, customer: string, owner: string) {
  // A broadcast needs the bot's Telegram token (sealed; never opened here).
  await client.query("insert into app_private.bot_tokens (bot_id, sealed_token) values ($1, 'sealed-for-backup')", [
    bot,
  ]);
  const { rows } = await client.query(
    `insert into app_public.broadcasts (tenant_id, bot_id, text, scheduled_at, created_by)
     values ($1, $2, 'Our shop is backed up', now() + interval '1 day', $3) returning id`,
    [tenantId, bot, owner],
  );
  await client.query(
    `insert into app_public.broadcast_deliveries (tenant_id, broadcast_id, customer_id, chat_id, batch)
     values ($1, $2, $3, 100001, 0)`,
    [tenantId, rows[0].id, customer],
  );
}

async function fillChat(client: pg.PoolClient, tenantId: string, owner: string, member: string) {
  const { rows } = await client.query(
    `insert into app_public.chats (tenant_id, kind, title, created_by) values ($1, 'group', 'Backup crew', $2)
     returning id`,
    [tenantId, owner],
  );
  await client.query(
    `insert into app_public.chat_members (tenant_id, chat_id, user_id, role)
     values ($1, $2, $3, 'owner'), ($1, $2, $4, 'member')`,
    [tenantId, rows[0].id, owner, member],
  );
  await client.query(
    `insert into app_public.messages (tenant_id, chat_id, sender_id, body)
     values ($1, $2, $3, 'Is everything backed up? ✓ — ünïcode too')`,
    [tenantId, rows[0].id, owner],
  );
}

async function fillBuild(client: pg.PoolClient, tenantId: string, owner: string) {
  const { rows } = await client.query(
    `insert into app_public.builds (tenant_id, requested_by, status, line_count, started_at, finished_at)
     values ($1, $2, 'succeeded', 1, now() - interval '1 minute', now()) returning id`,
    [tenantId, owner],
  );
  await client.query(
    `insert into app_public.build_log_lines (tenant_id, build_id, line_number, stream, text)
     values ($1, $2, 1, 'stdout', 'built for the backup')`,
    [tenantId, rows[0].id],
  );
  await client.query(
    "insert into app_public.releases (tenant_id, build_id, status, activated_by) values ($1, $2, 'active', $3)",
    [tenantId, rows[0].id, owner],
  );
}

/** Jobs due now, due later (keyed), in a named queue, and one that failed once. */
async function queueJobs(client: pg.PoolClient): Promise<void> {
  await client.query(`select graphile_worker.add_job('worker_heartbeat', '{}')`);
  await client.query(
    `select graphile_worker.add_job('cleanup_expired', '{}', run_at => now() + interval '1 hour',
                                    job_key => 'cleanup_expired:backup')`,
  );
  await client.query(`select graphile_worker.add_job('send_email', '{"to": []}', queue_name => 'backup-queue')`);
  const { rows } = await client.query(`select id from graphile_worker.add_job('worker_heartbeat', '{"n": 2}')`);
  await client.query(
    `update graphile_worker._private_jobs set attempts = 1, last_error = 'failed before the backup' where id = $1`,
    [rows[0].id],
  );
  await client.query(
    `insert into graphile_worker._private_known_crontabs (identifier, known_since, last_execution)
     values ('cleanup_expired', now() - interval '1 day', now() - interval '1 hour')`,
  );
}
