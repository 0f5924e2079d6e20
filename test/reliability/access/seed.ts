/**
 * The access matrix's data: a tenant (test/helpers/sql.ts createSqlTenant: roles, users, modules)
 * and then at least one row in every table of app_public, written as the owner role as the modules'
 * functions and jobs would leave them (their triggers run). Rows are laid out so that "some" and
 * "all" differ where a policy says whose rows: a notification for each person, everyone in one
 * event and one cancelled event, a group chat of everyone and a direct chat of the owner and the
 * admin. A failed job of the tenant (graphile-worker) is there for the job mutations.
 *
 * A new table needs its rows here: the matrix fails on a table without a row in each tenant.
 */
import { randomBytes } from "node:crypto";
import type { TestDatabase } from "../../helpers/database.ts";
import { createSqlTenant, type SqlTenant } from "../../helpers/sql.ts";

export interface SeededTenant extends SqlTenant {
  /** The store's bot: bot requests of this tenant run with its claims. */
  botId: string;
}

/** A tenant with rows in every table of app_public (committed). */
export async function createSeededTenant(db: TestDatabase): Promise<SeededTenant> {
  const tenant = await createSqlTenant(db);
  const botId = await seedTenant(db, tenant);
  return { ...tenant, botId };
}

const hex = (bytes: number) => randomBytes(bytes).toString("hex");
const telegramId = () => 1 + Math.floor(Math.random() * 1e9);

/**
 * Each step: SQL whose `:name` stands for an id known so far (the tenant, its people, and what
 * earlier steps returned as `id` under their `into` name), with its parameters.
 */
const STEPS: Array<{ sql: string; params?: () => unknown[]; into?: string }> = [
  // identity: a custom role and its grant (built-in roles read theirs from the catalogue)
  {
    sql: `with r as (insert into app_public.roles (tenant_id, name) values (:tenant, 'auditor') returning id)
          insert into app_public.role_permissions (role_id, permission) select id, 'orders.read' from r`,
  },
  // media
  {
    sql: `insert into app_public.images (tenant_id, sha256, content_type, size, uploaded_by)
          values (:tenant, $1, 'image/png', 10, :manager) returning sha256 as id`,
    params: () => [hex(32)],
    into: "image",
  },
  // notifications: one for each person
  {
    sql: `insert into app_public.instant_notifications (tenant_id, recipient_id, kind, title, content)
          select tenant_id, id, 'matrix_check', 'Hello', 'A notification' from app_public.users
          where tenant_id = :tenant and not is_system`,
  },
  // events: an open event everyone takes part in, and a cancelled one
  {
    sql: `insert into app_public.events (tenant_id, name, starts_at, ends_at, created_by)
          values (:tenant, 'Matrix meetup', now() + interval '10 days', now() + interval '11 days', :manager)
          returning id`,
    into: "event",
  },
  {
    sql: `insert into app_public.events (tenant_id, name, starts_at, ends_at, created_by, rejected_at, rejection_reason)
          values (:tenant, 'Cancelled meetup', now() + interval '12 days', now() + interval '13 days', :manager,
                  now(), 'Called off')`,
  },
  {
    sql: `insert into app_public.event_participants (tenant_id, event_id, user_id)
          select tenant_id, :event, id from app_public.users where tenant_id = :tenant and not is_system`,
  },
  // commerce
  {
    sql: `insert into app_public.customers (tenant_id, telegram_id, username, first_name, language_code)
          values (:tenant, $1, 'referrer', 'Ref', 'en') returning id`,
    params: () => [telegramId()],
    into: "referrer",
  },
  {
    sql: `insert into app_public.customers (tenant_id, telegram_id, username, first_name, language_code, referred_by)
          values (:tenant, $1, 'buyer', 'Buyer', 'en', :referrer) returning id`,
    params: () => [telegramId()],
    into: "customer",
  },
  {
    sql: `insert into app_public.bots (tenant_id, name, owner_id, referral_percent)
          values (:tenant, 'Store bot', :referrer, 5) returning id`,
    into: "bot",
  },
  { sql: "insert into app_private.bot_tokens (bot_id, sealed_token) values (:bot, 'sealed-matrix-token')" },
  {
    sql: `insert into app_public.api_keys (tenant_id, name, prefix, created_by)
          values (:tenant, 'Store key', $1, :admin) returning id`,
    params: () => [`tsk_${hex(4)}`],
    into: "apiKey",
  },
  {
    sql: "insert into app_private.api_key_secrets (api_key_id, secret_hash) values (:apiKey, $1)",
    params: () => [randomBytes(32)],
  },
  {
    sql: "insert into app_public.categories (tenant_id, name, position) values (:tenant, 'Top', 1) returning id",
    into: "category",
  },
  {
    sql: `insert into app_public.categories (tenant_id, name, position, parent_id)
          values (:tenant, 'Sub', 2, :category)`,
  },
  {
    sql: `insert into app_public.products (tenant_id, category_id, name, price, stock, image_sha256)
          values (:tenant, :category, 'Widget', 5, 100, :image) returning id`,
    into: "product",
  },
  {
    sql: `insert into app_public.products (tenant_id, category_id, name, price, kind)
          values (:tenant, :category, 'Monthly plan', 9, 'subscription') returning id`,
    into: "plan",
  },
  {
    sql: `insert into app_public.orders (tenant_id, bot_id, customer_id, total, currency, status, paid_at)
          values (:tenant, :bot, :customer, 14, 'USD', 'paid', now()) returning id`,
    into: "order",
  },
  {
    sql: `insert into app_public.order_items (tenant_id, order_id, product_id, quantity, unit_price)
          values (:tenant, :order, :product, 1, 5), (:tenant, :order, :plan, 1, 9)`,
  },
  // payments
  {
    sql: `insert into app_public.payments (tenant_id, kind, order_id, customer_id, bot_id, amount, currency, provider,
                                           status, paid_at)
          values (:tenant, 'order', :order, :customer, :bot, 14, 'USD', 'mock', 'succeeded', now()) returning id`,
    into: "payment",
  },
  {
    sql: `insert into app_public.bot_events (tenant_id, bot_id, type, payload)
          values (:tenant, :bot, 'payment.succeeded', jsonb_build_object('paymentId', :payment))`,
  },
  // the ledger (customer_balances follow from it)
  {
    sql: `insert into app_public.transactions (tenant_id, customer_id, type, amount, currency, reason, created_by)
          values (:tenant, :customer, 'adjustment', 20, 'USD', 'Welcome credit', :admin)`,
  },
  {
    sql: `insert into app_public.transactions (tenant_id, customer_id, type, amount, currency, order_id, payment_id,
                                               bot_id)
          values (:tenant, :customer, 'purchase', -14, 'USD', :order, :payment, :bot)`,
  },
  // subscriptions
  {
    sql: `insert into app_public.subscription_plans (tenant_id, product_id, provider_product_id, duration_days)
          values (:tenant, :plan, $1, 30)`,
    params: () => [`plan-${hex(4)}`],
  },
  {
    sql: `insert into app_public.subscriptions (tenant_id, customer_id, order_id, product_id, status,
                                                provider_subscription_id, issued_at, expires_at)
          values (:tenant, :customer, :order, :plan, 'active', 'sub-1', now(), now() + interval '30 days')
          returning id`,
    into: "subscription",
  },
  { sql: "insert into app_private.subscription_credentials (subscription_id, sealed) values (:subscription, 'x')" },
  // broadcasts
  {
    sql: `insert into app_public.broadcasts (tenant_id, bot_id, text, created_by)
          values (:tenant, :bot, 'Hello customers', :admin) returning id`,
    into: "broadcast",
  },
  {
    sql: `insert into app_public.broadcast_deliveries (tenant_id, broadcast_id, customer_id, chat_id, batch)
          select tenant_id, :broadcast, id, telegram_id, 0 from app_public.customers where tenant_id = :tenant`,
  },
  // messaging: a group of everyone, a direct chat of the owner and the admin
  {
    sql: `insert into app_public.chats (tenant_id, kind, title, created_by)
          values (:tenant, 'group', 'Everyone', :owner) returning id`,
    into: "group",
  },
  {
    sql: `insert into app_public.chats (tenant_id, kind, direct_user_a, direct_user_b, created_by)
          values (:tenant, 'direct', least(:owner, :admin), greatest(:owner, :admin), :owner) returning id`,
    into: "direct",
  },
  {
    sql: `insert into app_public.chat_members (tenant_id, chat_id, user_id, role)
          select tenant_id, :group, id, case when id = :owner then 'owner' else 'member' end
          from app_public.users where tenant_id = :tenant and not is_system
          union all select :tenant, :direct, unnest(array[:owner, :admin]), 'member'`,
  },
  {
    sql: `insert into app_public.messages (tenant_id, chat_id, sender_id, body)
          values (:tenant, :group, :owner, 'Hello all'), (:tenant, :direct, :admin, 'Hello you')`,
  },
  // builds
  {
    sql: `insert into app_public.builds (tenant_id, requested_by, modules, status, line_count, started_at, finished_at)
          values (:tenant, :admin, '{events}', 'succeeded', 1, now(), now()) returning id`,
    into: "build",
  },
  {
    sql: `insert into app_public.build_log_lines (tenant_id, build_id, line_number, stream, text)
          values (:tenant, :build, 1, 'stdout', 'built')`,
  },
  { sql: "insert into app_public.releases (tenant_id, build_id, activated_by) values (:tenant, :build, :admin)" },
  // operations: a job of the tenant that failed once
  {
    sql: `update graphile_worker._private_jobs set attempts = 1, last_error = 'boom'
          where id = (select id from graphile_worker.add_job('matrix_check', json_build_object('tenantId', :tenant)))`,
  },
];

/** Fills every table for the tenant in one transaction; returns the id of its bot. */
async function seedTenant(db: TestDatabase, t: SqlTenant): Promise<string> {
  const ids: Record<string, string> = {
    tenant: t.id,
    owner: t.owner.userId,
    admin: t.admin.userId,
    manager: t.manager.userId,
    member: t.member.userId,
  };
  // `:name` (not `::type`) becomes the id as a typed literal: uuid, or text for an image's sha256.
  const bind = (sql: string) =>
    sql.replace(/(?<!:):([a-zA-Z]+)\b/g, (_, name: string) => {
      const id = ids[name];
      if (id === undefined) throw new Error(`seed: :${name} is not known yet`);
      return /^[0-9a-f-]{36}$/.test(id) ? `'${id}'::uuid` : `'${id}'`;
    });
  const client = await db.ownerPool.connect();
  try {
    await client.query("begin");
    for (const step of STEPS) {
      const { rows } = await client.query<{ id: unknown }>(bind(step.sql), step.params?.() ?? []);
      if (step.into) ids[step.into] = String(rows[0]!.id);
    }
    await client.query("commit");
    return ids.bot!;
  } catch (error) {
    await client.query("rollback");
    throw error;
  } finally {
    client.release();
  }
}
