/**
 * Paying for a provider's subscription: the order_paid consumer makes a pending subscription and its
 * issue_subscription job; the job has the provider issue it and keeps the credentials sealed; the
 * bot reads them over REST; admins see the subscription through GraphQL, never its credentials.
 */
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { type ContmsServer, startContmsServer } from "../helpers/contmsServer.ts";
import { createUser } from "../helpers/fixtures.ts";
import { queuedJobs } from "../helpers/jobs.ts";
import { until } from "../helpers/wait.ts";
import { bot, createProduct, createStore, gql, type TestStore } from "../commerce/store.ts";
import { buy, planProduct, runJobs, syncNow } from "./shop.ts";

let contms: ContmsServer;
let app: TestApp;
let store: TestStore;
let other: TestStore;
let vpnId: string;

beforeAll(async () => {
  contms = await startContmsServer();
  contms.products = [
    { id: "vpn-30", name: "VPN (30 days)", description: "Fast VPN", price: "9.99", currency: "USD", durationDays: 30 },
  ];
  app = await startTestApp({ env: contms.env });
  store = await createStore(app);
  other = await createStore(app);
  await syncNow(app);
  vpnId = (await planProduct(app.db.ownerPool, store.tenant.id, "vpn-30"))!.id;
});
afterAll(async () => {
  await app.stop();
  await contms.stop();
});

const subscriptionsOf = (orderId: string) =>
  app.db.ownerPool
    .query<{ id: string; status: string; provider_subscription_id: string | null }>(
      "select id, status, provider_subscription_id from app_public.subscriptions where order_id = $1 order by unit",
      [orderId],
    )
    .then((result) => result.rows);

/** Runs the jobs until every subscription of the order is active. */
async function issueAll(orderId: string): Promise<void> {
  await until(async () => {
    await runJobs(app);
    const rows = await subscriptionsOf(orderId);
    return rows.length > 0 && rows.every((row) => row.status === "active");
  }, "the order's subscriptions to be issued");
}

test("a paid subscription is issued by the provider, sealed at rest, and handed to the bot", async () => {
  const { orderId } = await buy(app, store, 7001, vpnId);
  // Paying enqueued the domain event; its consumer makes the pending subscription and its job.
  await runJobs(app, app.config, ["domain_event"]);
  const [pending] = await subscriptionsOf(orderId);
  expect(pending).toMatchObject({ status: "pending", provider_subscription_id: null });
  const waiting = await bot(app, store).get("/api/bot/customers/7001/subscriptions");
  expect(waiting.status).toBe(200);
  expect(waiting.body.items).toEqual([
    expect.objectContaining({ id: pending!.id, status: "pending", credentials: null }),
  ]);

  await issueAll(orderId);
  const issued = contms.issued.get(pending!.id)!;
  expect(issued).toMatchObject({ productId: "vpn-30", telegramId: 7001 });
  const [active] = await subscriptionsOf(orderId);
  expect(active).toMatchObject({ status: "active", provider_subscription_id: issued.id });

  const listed = await bot(app, store).get("/api/bot/customers/7001/subscriptions");
  expect(listed.status).toBe(200);
  expect(listed.body).toEqual({
    items: [
      {
        id: pending!.id,
        productId: vpnId,
        productName: "VPN (30 days)",
        status: "active",
        expiresAt: new Date(issued.expiresAt).toISOString(),
        credentials: { login: issued.login, password: issued.password, url: issued.url },
        createdAt: expect.any(String),
      },
    ],
    nextCursor: null,
  });

  // At rest: sealed (AES-GCM), and no table of ours holds the password in clear.
  const sealed = await app.db.ownerPool.query<{ sealed: string }>(
    "select sealed from app_private.subscription_credentials where subscription_id = $1",
    [pending!.id],
  );
  expect(sealed.rows[0]!.sealed).toMatch(/^v1\./);
  const clear = await app.db.ownerPool.query(
    `select 1 from app_private.subscription_credentials c, app_public.subscriptions s
     where s.id = $1 and (c::text like '%' || $2 || '%' or s::text like '%' || $2 || '%'
                          or c::text like '%' || $3 || '%')`,
    [pending!.id, issued.password, issued.login],
  );
  expect(clear.rowCount).toBe(0);
});

test("the sealed credentials are out of the bot role's reach and out of GraphQL", async () => {
  const manager = await createUser(app.db.ownerPool, store.tenant, "manager");
  const member = await createUser(app.db.ownerPool, store.tenant, "member");
  const query = "{ customerSubscriptions { nodes { rowId status providerSubscriptionId expiresAt orderId } } }";
  const seen = await gql(app, manager.token, query);
  expect(seen.customerSubscriptions.nodes).toEqual([
    expect.objectContaining({ status: "active", providerSubscriptionId: expect.any(String) }),
  ]);
  expect((await gql(app, member.token, query)).customerSubscriptions.nodes).toEqual([]);
  expect((await gql(app, other.admin.token, query)).customerSubscriptions.nodes).toEqual([]);
  // Found by the provider's id (what a customer quoting their account gives), in its own tenant only.
  const byProvider = `query($id: String!) {
    customerSubscriptions(condition: { providerSubscriptionId: $id }) { nodes { rowId } } }`;
  const providerId = { id: seen.customerSubscriptions.nodes[0].providerSubscriptionId };
  expect((await gql(app, manager.token, byProvider, providerId)).customerSubscriptions.nodes).toEqual([
    { rowId: seen.customerSubscriptions.nodes[0].rowId },
  ]);
  expect((await gql(app, other.admin.token, byProvider, providerId)).customerSubscriptions.nodes).toEqual([]);
  const type = await gql(app, manager.token, '{ __type(name: "CustomerSubscription") { fields { name } } }');
  const fields = type.__type.fields.map((field: { name: string }) => field.name);
  expect(fields).toContain("providerSubscriptionId");
  expect(fields.filter((name: string) => /sealed|credential|password|login/i.test(name))).toEqual([]);

  // The bot role reads the table (its tenant's rows) but not the sealed values' table.
  const client = await app.db.rootPool.connect();
  try {
    await client.query("begin");
    await client.query(`set local role ${app.config.database!.botRole}`);
    await expect(client.query("select * from app_private.subscription_credentials")).rejects.toMatchObject({
      code: "42501",
    });
  } finally {
    await client.query("rollback");
    client.release();
  }
});

test("another store's bot gets 404 for this customer; one without subscriptions gets an empty list", async () => {
  const foreign = await bot(app, other).get("/api/bot/customers/7001/subscriptions");
  expect(foreign.status).toBe(404);
  expect(foreign.body.error.code).toBe("NOT_FOUND");
  await bot(app, store).post("/api/bot/customers", { telegramId: 7002, firstName: "Nobody" });
  const empty = await bot(app, store).get("/api/bot/customers/7002/subscriptions");
  expect(empty.body).toEqual({ items: [], nextCursor: null });
});

test("two units are two subscriptions; goods and the store's own subscriptions make none", async () => {
  const shirt = await createProduct(app, store.admin, { name: "Shirt", price: "5.00" });
  const own = await createProduct(app, store.admin, { name: "Own plan", price: "1.00", kind: "subscription" });
  await buy(app, store, 7003, shirt);
  await buy(app, store, 7003, own);
  const { orderId } = await buy(app, store, 7003, vpnId, 2);
  await issueAll(orderId);
  const rows = await subscriptionsOf(orderId);
  expect(rows).toHaveLength(2);
  expect(new Set(rows.map((row) => row.provider_subscription_id)).size).toBe(2);
  const listed = await bot(app, store).get("/api/bot/customers/7003/subscriptions?limit=1");
  expect(listed.body.items).toHaveLength(1);
  const next = await bot(app, store).get(
    `/api/bot/customers/7003/subscriptions?limit=1&cursor=${encodeURIComponent(listed.body.nextCursor)}`,
  );
  expect(next.body.items).toHaveLength(1);
  expect(next.body.items[0].id).not.toBe(listed.body.items[0].id);
  expect(next.body.nextCursor).toBeNull();
  // Another customer's list refuses this customer's cursor (it took it before the fix, answering []).
  await bot(app, store).post("/api/bot/customers", { telegramId: 7004 });
  const moved = await bot(app, store).get(
    `/api/bot/customers/7004/subscriptions?limit=1&cursor=${encodeURIComponent(listed.body.nextCursor)}`,
  );
  expect([moved.status, moved.body.error?.details?.fields]).toEqual([
    400,
    { cursor: "was made for another list or sort" },
  ]);
  expect(await queuedJobs(app.db.ownerPool, "issue_subscription")).toEqual([]);
});

test("a plan is issued whatever kind an admin gave its product; a plan the provider dropped is not sold", async () => {
  contms.products = [
    ...contms.products,
    { id: "box-7", name: "Cloud box (7 days)", price: "2.00", currency: "USD", durationDays: 7 },
  ];
  await syncNow(app);
  const box = (await planProduct(app.db.ownerPool, store.tenant.id, "box-7"))!.id;
  const switched = await gql(
    app,
    store.admin.token,
    'mutation($id: UUID!) { updateProduct(input: { rowId: $id, patch: { kind: "goods" } }) { product { kind } } }',
    { id: vpnId },
  );
  expect(switched.updateProduct.product.kind).toBe("goods");
  const { orderId } = await buy(app, store, 7005, vpnId);
  await issueAll(orderId);
  expect((await subscriptionsOf(orderId)).map((row) => row.status)).toEqual(["active"]);

  // An order placed while the plan was listed, paid after the provider dropped it: refused, and
  // the customer keeps the money (the balance buy() funded).
  const api = bot(app, store);
  const order = await api.post("/api/bot/orders", { telegramId: 7005, items: [{ productId: box, quantity: 1 }] });
  expect(order.status).toBe(201);
  contms.products = contms.products.filter((product) => product.id !== "box-7");
  await syncNow(app);
  const paid = await api.post(`/api/bot/orders/${order.body.id}/pay`, { method: "balance" });
  expect([paid.status, paid.body.error.code]).toEqual([409, "CONFLICT"]);
  expect((await api.get("/api/bot/customers/7005/balance")).body.balance).toBe("990.01");
  expect(await subscriptionsOf(order.body.id)).toEqual([]);
});
