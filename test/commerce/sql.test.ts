/**
 * The commerce SQL on its own: constraints that hold without the API, the append-only ledger for
 * every role, balances that never go below zero, who sees what (admins by permission, bots by
 * tenant), and that the bot functions belong to the bot role only.
 */
import type pg from "pg";
import {
  a,
  asBot as asBotOf,
  asRoot,
  asUser,
  b,
  type Client,
  column,
  db,
  errorCode,
  type SqlTenant,
  useSqlTenants,
  value,
} from "../helpers/sql.ts";

useSqlTenants();

/** Rows of a small store in tenant t, written as the owner role and kept (committed). */
async function seedStore(t: SqlTenant) {
  const pool = db.ownerPool;
  const customer = await value<string>(
    pool,
    "insert into app_public.customers (tenant_id, telegram_id) values ($1, $2) returning id",
    [t.id, Math.floor(Math.random() * 1e9) + 1],
  );
  const bot = await value<string>(pool, "insert into app_public.bots (tenant_id, name) values ($1, 'b') returning id", [
    t.id,
  ]);
  const product = await value<string>(
    pool,
    "insert into app_public.products (tenant_id, name, price, stock) values ($1, 'p', 5, 3) returning id",
    [t.id],
  );
  const order = await value<string>(
    pool,
    `insert into app_public.orders (tenant_id, bot_id, customer_id, total, currency)
     values ($1, $2, $3, 5, 'USD') returning id`,
    [t.id, bot, customer],
  );
  await pool.query(
    `insert into app_public.transactions (tenant_id, customer_id, type, amount, currency)
     values ($1, $2, 'adjustment', 10, 'USD')`,
    [t.id, customer],
  );
  return { customer, bot, product, order };
}

/** Runs fn as the bot role with the claims of a bot of tenant t; rolled back. */
const asBot = <T>(t: SqlTenant, botId: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> =>
  asBotOf(db, t.id, botId, fn);

async function asSuperuser<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await db.rootPool.connect();
  try {
    await client.query("begin");
    return await fn(client);
  } finally {
    await client.query("rollback");
    client.release();
  }
}

test("quantity > 0 is the table's own constraint: a direct insert of 0 fails", async () => {
  const store = await seedStore(a);
  await asSuperuser(async (client) => {
    const insert = `insert into app_public.order_items (tenant_id, order_id, product_id, quantity, unit_price)
                    values ($1, $2, $3, $4, 5)`;
    expect(await errorCode(client as Client, insert, [a.id, store.order, store.product, 0])).toBe("23514");
    expect(await errorCode(client as Client, insert, [a.id, store.order, store.product, -1])).toBe("23514");
    expect(await errorCode(client as Client, insert, [a.id, store.order, store.product, 1])).toBeUndefined();
  });
});

test("the ledger refuses UPDATE and DELETE for every role, the superuser included", async () => {
  await seedStore(a);
  const attempts = ["update app_public.transactions set amount = 1000000", "delete from app_public.transactions"];
  await asSuperuser(async (client) => {
    for (const sql of attempts) expect(await errorCode(client as Client, sql)).toBe("TFORB");
    expect(await errorCode(client as Client, "truncate app_public.transactions cascade")).toBe("TFORB");
  });
  const owner = await db.ownerPool.connect();
  try {
    await owner.query("begin");
    for (const sql of attempts) expect(await errorCode(owner as Client, sql)).toBe("TFORB");
  } finally {
    await owner.query("rollback");
    owner.release();
  }
  await asUser(db, a.owner, async (client) => {
    for (const sql of attempts) expect(await errorCode(client, sql)).toBe("42501");
  });
  const store = await seedStore(a);
  await asBot(a, store.bot, async (client) => {
    for (const sql of attempts) expect(await errorCode(client as Client, sql)).toBe("42501");
  });
  expect(await value(db.ownerPool, "select count(*)::int from app_public.transactions where amount = 1000000")).toBe(0);
});

test("a balance never goes below zero: the entry that would is refused and nothing is written", async () => {
  const store = await seedStore(a);
  await asUser(db, a.admin, async (client) => {
    const adjust = "select id from app_public.adjust_customer_balance($1, $2, 'x')";
    expect(await errorCode(client, adjust, [store.customer, -10.01])).toBe("TBALN");
    expect(await errorCode(client, adjust, [store.customer, -10])).toBeUndefined();
    expect(
      await value(client, "select balance::text from app_public.customer_balances where customer_id = $1", [
        store.customer,
      ]),
    ).toBe("0.00");
    // NaN, infinity and a third decimal are not money.
    for (const amount of ["NaN", "Infinity", "-Infinity"]) {
      await client.query("savepoint s");
      await expect(
        client.query("select id from app_public.adjust_customer_balance($1, $2::numeric, 'x')", [
          store.customer,
          amount,
        ]),
      ).rejects.toMatchObject({ code: "TVALD", detail: '{"field":"amount","reason":"NOT_AN_AMOUNT"}' });
      await client.query("rollback to savepoint s");
    }
    expect(
      await errorCode(client, "select id from app_public.adjust_customer_balance($1, $2::numeric, 'x')", [
        store.customer,
        "0.001",
      ]),
    ).toMatch(/^22|^23/);
  });
});

test("adjustments need ledger.manage; a manager, a member and another tenant's admin are refused", async () => {
  const store = await seedStore(a);
  const adjust = "select id from app_public.adjust_customer_balance($1, 5, 'x')";
  for (const person of [a.manager, a.member]) {
    await asUser(db, person, async (client) => expect(await errorCode(client, adjust, [store.customer])).toBe("TFORB"));
  }
  await asUser(db, b.admin, async (client) => expect(await errorCode(client, adjust, [store.customer])).toBe("TNFND"));
});

test("admins see customers and orders by orders.read; members and other tenants see none", async () => {
  const store = await seedStore(a);
  const customers = (client: Client) =>
    column<string>(client, "select id from app_public.customers where id = $1", [store.customer]);
  await asUser(db, a.manager, async (client) => expect(await customers(client)).toEqual([store.customer]));
  await asUser(db, a.member, async (client) => expect(await customers(client)).toEqual([]));
  await asUser(db, b.owner, async (client) => expect(await customers(client)).toEqual([]));
});

test("a bot sees its own tenant's rows only, and cannot write tables directly", async () => {
  const mine = await seedStore(a);
  const theirs = await seedStore(b);
  await asBot(a, mine.bot, async (client) => {
    for (const table of ["customers", "orders", "products", "transactions", "bots"]) {
      const tenants = await column<string>(client as Client, `select distinct tenant_id from app_public.${table}`);
      expect(tenants).toEqual([a.id]);
    }
    expect(await errorCode(client as Client, "select app_hidden.bot_pay_order($1)", [theirs.order])).toBe("TNFND");
    expect(
      await errorCode(
        client as Client,
        "insert into app_public.transactions (tenant_id, type, amount, currency) values ($1, 'deposit', 1, 'USD')",
        [a.id],
      ),
    ).toBe("42501");
    expect(await errorCode(client as Client, "update app_public.products set stock = 100")).toBe("42501");
  });
});

test("the bot functions belong to the bot role: a signed-in user cannot call them", async () => {
  await asUser(db, a.owner, async (client) => {
    expect(await errorCode(client, "select app_hidden.bot_upsert_customer(1, null, null, null, null)")).toBe("42501");
    expect(await errorCode(client, "select app_hidden.bot_pay_order(gen_random_uuid())")).toBe("42501");
  });
});

test("API key secrets are stored only as hashes, out of every request role's reach", async () => {
  await asUser(db, a.admin, async (client) => {
    const secret = await value<string>(client, "select (app_public.create_api_key('k')).secret");
    expect(secret).toMatch(/^tsk_[A-Za-z0-9_-]{40,}$/);
    expect(await errorCode(client, "select * from app_private.api_key_secrets")).toBe("42501");
    const stored = await asRoot<{ hex: string }>(
      db,
      client,
      "select encode(secret_hash, 'hex') as hex from app_private.api_key_secrets",
    );
    expect(JSON.stringify(stored)).not.toContain(secret);
    const prefix = await value<string>(client, "select prefix from app_public.api_keys where name = 'k'");
    expect(secret.startsWith(prefix)).toBe(true);
  });
});
