/**
 * The subscriptions SQL on its own: the sync's upserts, a paid order's subscriptions and jobs made
 * once, the issued answer stored once, who reads subscriptions (orders.read, their tenant's bots),
 * and the sealed credentials out of every request role's reach but the bot's own tenant's function.
 */
import type pg from "pg";
import { asVisitor } from "../helpers/roles.ts";
import { a, asUser, b, column, db, errorCode, type SqlTenant, useSqlTenants, value } from "../helpers/sql.ts";

useSqlTenants();

const ITEMS = [{ id: "p1", name: "Plan 1", description: null, price: "4.00", currency: "USD", durationDays: 7 }];

/** A paid order of two units of the provider's plan in tenant t, its subscriptions made; one issued. */
async function paidOrder(t: SqlTenant) {
  const pool = db.ownerPool;
  const product = await value<string>(
    pool,
    `select p.product_id from app_public.subscription_plans p where p.tenant_id = $1 and p.provider_product_id = 'p1'`,
    [t.id],
  );
  const customer = await value<string>(
    pool,
    "insert into app_public.customers (tenant_id, telegram_id) values ($1, $2) returning id",
    [t.id, Math.floor(Math.random() * 1e9) + 1],
  );
  const bot = await value<string>(pool, "insert into app_public.bots (tenant_id, name) values ($1, 'b') returning id", [
    t.id,
  ]);
  const order = await value<string>(
    pool,
    `insert into app_public.orders (tenant_id, bot_id, customer_id, total, currency, status, paid_at)
     values ($1, $2, $3, 8, 'USD', 'paid', now()) returning id`,
    [t.id, bot, customer],
  );
  await pool.query(
    `insert into app_public.order_items (tenant_id, order_id, product_id, quantity, unit_price)
     values ($1, $2, $3, 2, 4)`,
    [t.id, order, product],
  );
  const made = await value<number>(pool, "select app_private.create_order_subscriptions($1)", [order]);
  const ids = await column<string>(pool, "select id from app_public.subscriptions where order_id = $1 order by unit", [
    order,
  ]);
  // The provider's id of a subscription is its own (one per subscription of ours, in every tenant).
  await pool.query("select app_private.record_issued_subscription($1, $2, now() + interval '7 days', 'v1.x.y.z')", [
    ids[0],
    `prov-${ids[0]}`,
  ]);
  return { bot, order, made, ids };
}

let storeA: Awaited<ReturnType<typeof paidOrder>>;
let storeB: Awaited<ReturnType<typeof paidOrder>>;

beforeAll(async () => {
  await db.ownerPool.query("select * from app_private.sync_subscription_plans($1::jsonb)", [JSON.stringify(ITEMS)]);
  storeA = await paidOrder(a);
  storeB = await paidOrder(b);
});

function asBot<T>(t: SqlTenant, botId: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return asVisitor(db.rootPool, db.urls.botRole, async (client) => {
    await client.query(
      "select set_config('jwt.claims.bot_tenant_id', $1, true), set_config('jwt.claims.bot_id', $2, true)",
      [t.id, botId],
    );
    return fn(client);
  });
}

test("a paid order's subscriptions and jobs are made once; the provider's answer is stored once", async () => {
  expect(storeA.made).toBe(2);
  expect(await value(db.ownerPool, "select app_private.create_order_subscriptions($1)", [storeA.order])).toBe(0);
  const jobs = await db.ownerPool.query(
    `select j.key, j.max_attempts, j.payload->>'tenantId' as tenant from graphile_worker._private_jobs j
     where j.key = any($1) order by j.key`,
    [storeA.ids.map((id) => `issue_subscription:${id}`)],
  );
  expect(jobs.rows).toHaveLength(2);
  expect(jobs.rows.every((job) => job.max_attempts === 10 && job.tenant === a.id)).toBe(true);
  expect(
    await value(db.ownerPool, "select app_private.record_issued_subscription($1, 'other', null, 'v1.other')", [
      storeA.ids[0],
    ]),
  ).toBe(false);
  expect(
    await column(db.ownerPool, "select sealed from app_private.subscription_credentials where subscription_id = $1", [
      storeA.ids[0],
    ]),
  ).toEqual(["v1.x.y.z"]);
});

test("admins with orders.read see their tenant's subscriptions; members and other tenants do not", async () => {
  const seen = (claims: typeof a.admin) =>
    asUser(db, claims, (client) => column<string>(client, "select id from app_public.subscriptions order by id"));
  expect(await seen(a.admin)).toEqual([...storeA.ids].sort());
  expect(await seen(a.manager)).toEqual([...storeA.ids].sort());
  expect(await seen(a.member)).toEqual([]);
  expect(await seen(b.owner)).toEqual([...storeB.ids].sort());
  await asUser(db, a.admin, async (client) => {
    expect(await errorCode(client, "select * from app_private.subscription_credentials")).toBe("42501");
    expect(await errorCode(client, "select * from app_hidden.bot_subscription_credentials($1)", [storeA.ids])).toBe(
      "42501",
    );
    expect(
      await errorCode(client, "update app_public.subscriptions set status = 'active' where id = $1", [storeA.ids[1]]),
    ).toBe("42501");
  });
});

test("a bot reads its tenant's subscriptions and their sealed credentials only", async () => {
  await asBot(a, storeA.bot, async (client) => {
    expect(await column(client, "select id from app_public.subscriptions order by id")).toEqual([...storeA.ids].sort());
    expect(await errorCode(client, "select * from app_private.subscription_credentials")).toBe("42501");
    const sealed = await column(client, "select subscription_id from app_hidden.bot_subscription_credentials($1)", [
      [...storeA.ids, ...storeB.ids],
    ]);
    expect(sealed).toEqual([storeA.ids[0]]);
  });
});

test("the sync refuses anything but a list", async () => {
  await expect(
    db.ownerPool.query("select * from app_private.sync_subscription_plans('{}'::jsonb)"),
  ).rejects.toMatchObject({ code: "TVALD" });
});
