/**
 * The payments SQL on its own: a payment holds its order's stock and is started once, settling is
 * exact (amount, currency) and happens once, failure and expiry give the stock back, who sees
 * payments and bot events (payments.read; a bot its own), and the settling functions belong to no
 * request role.
 */
import {
  a,
  asBot,
  asUser,
  b,
  type Client,
  column,
  committedAs,
  db,
  errorCode,
  type SqlTenant,
  useSqlTenants,
  value,
} from "../helpers/sql.ts";

useSqlTenants();

/** A store in tenant t with a pending order of 2 units of a product with 3 in stock (owner role, committed). */
async function seedOrder(t: SqlTenant) {
  const pool = db.ownerPool;
  const customer = await value<string>(
    pool,
    "insert into app_public.customers (tenant_id, telegram_id) values ($1, $2) returning id",
    [t.id, Math.floor(Math.random() * 1e9) + 1],
  );
  const [bot, otherBot] = await column<string>(
    pool,
    "insert into app_public.bots (tenant_id, name) values ($1, 'b1'), ($1, 'b2') returning id",
    [t.id],
  );
  const product = await value<string>(
    pool,
    "insert into app_public.products (tenant_id, name, price, stock) values ($1, 'p', 5, 3) returning id",
    [t.id],
  );
  const order = await value<string>(
    pool,
    `insert into app_public.orders (tenant_id, bot_id, customer_id, total, currency)
     values ($1, $2, $3, 10, 'USD') returning id`,
    [t.id, bot, customer],
  );
  await pool.query(
    `insert into app_public.order_items (tenant_id, order_id, product_id, quantity, unit_price)
     values ($1, $2, $3, 2, 5)`,
    [t.id, order, product],
  );
  return { customer, bot: bot!, otherBot: otherBot!, product, order };
}

const START = "select (payment).id, created from app_hidden.bot_start_payment($1, null, null, 'mock')";
const stockOf = (client: Client, product: string) =>
  value<number>(client, "select stock from app_public.products where id = $1", [product]);

test("a payment holds its order's stock once; a second start returns it; others' orders refused", async () => {
  const store = await seedOrder(a);
  const theirs = await seedOrder(b);
  await asBot(db, a.id, store.bot, async (client) => {
    const first = (await client.query(START, [store.order])).rows[0];
    expect(first.created).toBe(true);
    const second = (await client.query(START, [store.order])).rows[0];
    expect(second).toEqual({ id: first.id, created: false });
    expect(await stockOf(client, store.product)).toBe(1);
    expect(await errorCode(client, START, [theirs.order])).toBe("TNFND");
    // Paying it from the balance meanwhile is refused.
    expect(await errorCode(client, "select app_hidden.bot_pay_order($1)", [store.order])).toBe("TCONF");
  });
  await asBot(db, a.id, store.otherBot, async (client) => {
    expect(await errorCode(client, START, [store.order])).toBe("TFORB");
  });
});

test("settling is exact and happens once; a failure or an expiry gives the stock back", async () => {
  const store = await seedOrder(a);
  const start = async () =>
    asBotCommitted(a, store.bot, async (client) => (await client.query(START, [store.order])).rows[0].id as string);
  const settle = (id: string, outcome: string, amount: string, currency = "USD") =>
    value<string>(db.ownerPool, "select app_private.settle_payment($1, $2, $3::numeric, $4, 'test')", [
      id,
      outcome,
      amount,
      currency,
    ]);

  const failing = await start();
  await expect(settle(failing, "succeeded", "9.99")).rejects.toMatchObject({ code: "TPAMT" });
  await expect(settle(failing, "succeeded", "10.00", "EUR")).rejects.toMatchObject({ code: "TPAMT" });
  expect(await settle(failing, "failed", "10.00")).toBe("failed");
  expect(await settle(failing, "failed", "10.00")).toBe("unchanged");
  expect(await value(db.ownerPool, "select stock from app_public.products where id = $1", [store.product])).toBe(3);

  const expiring = await start();
  expect(await value(db.ownerPool, "select (app_private.expire_payment($1)).status", [expiring])).toBe("expired");
  expect(await value(db.ownerPool, "select (app_private.expire_payment($1)).status", [expiring])).toBeNull();
  expect(await value(db.ownerPool, "select stock from app_public.products where id = $1", [store.product])).toBe(3);

  const paying = await start();
  expect(await settle(paying, "succeeded", "10.00")).toBe("succeeded");
  expect(await settle(paying, "succeeded", "10.00")).toBe("unchanged");
  expect(await settle(paying, "failed", "10.00")).toBe("unchanged");
  const entries = await column<string>(
    db.ownerPool,
    "select type || ' ' || amount::text from app_public.transactions where payment_id = $1 order by type, amount",
    [paying],
  );
  expect(entries).toEqual(["deposit 10.00", "purchase -10.00", "purchase 10.00"]);
  expect(await value(db.ownerPool, "select status from app_public.orders where id = $1", [store.order])).toBe("paid");
  expect(await value(db.ownerPool, "select stock from app_public.products where id = $1", [store.product])).toBe(1);
});

test("at the limits of a balance and of stock, a provider's valid outcome still settles", async () => {
  const MAX = "9999999999999999.99";
  const settle = (id: string, outcome: string) =>
    value<string>(db.ownerPool, "select app_private.settle_payment($1, $2, 10.00, 'USD', 'test')", [id, outcome]);
  const balanceOf = (customer: string) =>
    value<string>(db.ownerPool, "select balance::text from app_public.customer_balances where customer_id = $1", [
      customer,
    ]);
  const credit = (customer: string, amount: string) =>
    db.ownerPool.query(
      `insert into app_public.transactions (tenant_id, customer_id, type, amount, currency, reason)
       values ($1, $2, 'adjustment', $3::numeric, 'USD', 'test')`,
      [a.id, customer, amount],
    );
  const start = (store: Awaited<ReturnType<typeof seedOrder>>) =>
    asBotCommitted(a, store.bot, async (client) => (await client.query(START, [store.order])).rows[0].id as string);

  // The buyer's balance at its largest: the deposit first would pass it in between.
  const full = await seedOrder(a);
  await credit(full.customer, MAX);
  expect(await settle(await start(full), "succeeded")).toBe("succeeded");
  expect(await value(db.ownerPool, "select status from app_public.orders where id = $1", [full.order])).toBe("paid");
  expect(await balanceOf(full.customer)).toBe(MAX);

  // A referrer at the largest balance gets what still fits (nothing), and the buyer's payment settles.
  const referred = await seedOrder(a);
  const referrer = await value<string>(
    db.ownerPool,
    "insert into app_public.customers (tenant_id, telegram_id) values ($1, $2) returning id",
    [a.id, Math.floor(Math.random() * 1e9) + 1],
  );
  await credit(referrer, "9999999999999999.50");
  await db.ownerPool.query("update app_public.customers set referred_by = $1 where id = $2", [
    referrer,
    referred.customer,
  ]);
  await db.ownerPool.query("update app_public.bots set referral_percent = 10 where id = $1", [referred.bot]);
  expect(await settle(await start(referred), "succeeded")).toBe("succeeded");
  expect(await balanceOf(referrer)).toBe(MAX);
  expect(
    await column<string>(
      db.ownerPool,
      "select amount::text from app_public.transactions where customer_id = $1 and type = 'referral_payout'",
      [referrer],
    ),
  ).toEqual(["0.49"]);

  // Stock set to the integer's largest value while a payment held two: the failure gives them back.
  const plenty = await seedOrder(a);
  const held = await start(plenty);
  await db.ownerPool.query("update app_public.products set stock = 2147483647 where id = $1", [plenty.product]);
  expect(await settle(held, "failed")).toBe("failed");
  expect(await value(db.ownerPool, "select stock from app_public.products where id = $1", [plenty.product])).toBe(
    2147483647,
  );

  // A deposit the balance could not hold is refused before the provider is asked.
  const DEPOSIT = "select (payment).id from app_hidden.bot_start_payment(null, $1, 10.00, 'mock')";
  const telegram = await value<string>(
    db.ownerPool,
    "select telegram_id::text from app_public.customers where id = $1",
    [full.customer],
  );
  await asBot(db, a.id, full.bot, async (client) => {
    expect(await errorCode(client, DEPOSIT, [telegram])).toBe("TVALD");
  });
  await db.ownerPool.query(
    `insert into app_public.transactions (tenant_id, customer_id, type, amount, currency, reason)
     values ($1, $2, 'adjustment', -10, 'USD', 'test')`,
    [a.id, full.customer],
  );
  await asBot(db, a.id, full.bot, async (client) => {
    expect(await value(client, DEPOSIT, [telegram])).toEqual(expect.any(String));
  });
});

test("payments and bot events: admins by payments.read, a bot its own, nobody another tenant's", async () => {
  const store = await seedOrder(a);
  const payment = await asBotCommitted(
    a,
    store.bot,
    async (client) => (await client.query(START, [store.order])).rows[0].id,
  );
  await db.ownerPool.query("select app_private.close_payment($1, 'failed', 'test')", [payment]);
  const payments = (client: Client) =>
    column<string>(client, "select id from app_public.payments where id = $1", [payment]);
  const events = (client: Client) =>
    column<string>(
      client,
      "select payload ->> 'paymentId' from app_public.bot_events where payload ->> 'paymentId' = $1",
      [payment],
    );
  for (const [who, sees] of [
    [a.admin, true],
    [a.manager, true],
    [a.member, false],
    [b.owner, false],
  ] as const)
    await asUser(db, who, async (client) => {
      expect(await payments(client)).toEqual(sees ? [payment] : []);
      expect(await events(client)).toEqual(sees ? [payment] : []);
    });
  await asBot(db, a.id, store.bot, async (client) => {
    expect(await payments(client)).toEqual([payment]);
    expect(await events(client)).toEqual([payment]);
  });
  await asBot(db, a.id, store.otherBot, async (client) => {
    expect(await payments(client)).toEqual([]);
    expect(await events(client)).toEqual([]);
  });
});

test("the settling functions and the delivery logs belong to no request role", async () => {
  const calls = [
    "select app_private.settle_payment(gen_random_uuid(), 'succeeded', 1, 'USD', 'x')",
    "select app_private.receive_payment_webhook('mock', 'id', 'payment.succeeded', 'x', 1, 'USD')",
    "select app_private.expire_payment(gen_random_uuid())",
    "select * from app_private.payment_webhooks",
    "select * from app_private.bot_event_deliveries",
    "insert into app_public.payments (tenant_id, kind, customer_id, bot_id, amount, currency, provider) " +
      "select tenant_id, 'deposit', id, id, 1, 'USD', 'mock' from app_public.customers limit 1",
  ];
  const store = await seedOrder(a);
  await asUser(db, a.owner, async (client) => {
    for (const sql of calls) expect([sql, await errorCode(client, sql)]).toEqual([sql, "42501"]);
    expect(await errorCode(client, START, [store.order])).toBe("42501");
  });
  await asBot(db, a.id, store.bot, async (client) => {
    for (const sql of calls) expect([sql, await errorCode(client, sql)]).toEqual([sql, "42501"]);
  });
});

/** As the bot role, committed (the settling functions run in later transactions, as the server's would). */
function asBotCommitted<T>(t: SqlTenant, botId: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const claims = (client: Client) =>
    client.query("select set_config('jwt.claims.bot_tenant_id', $1, true), set_config('jwt.claims.bot_id', $2, true)", [
      t.id,
      botId,
    ]);
  return committedAs(db.rootPool, db.urls.botRole, claims, fn);
}
