/**
 * A bot's whole journey over REST: a customer invited by another → categories and two pages of
 * products → an admin funds the balance → an order → paid from the balance → balance, orders and
 * the referrer's analytics (the payout names the bot).
 */
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { bot, createProduct, createStore, fundCustomer, gql, type TestStore } from "./store.ts";

let app: TestApp;
let store: TestStore;
let productIds: string[];

beforeAll(async () => {
  app = await startTestApp();
  store = await createStore(app);
  const categories = await gql(
    app,
    store.admin.token,
    `mutation {
       root: createCategory(input: { category: { name: "Merch", position: 1 } }) { category { rowId } }
     }`,
  );
  const rootId = categories.root.category.rowId;
  await gql(
    app,
    store.admin.token,
    `mutation($p: UUID!) {
       createCategory(input: { category: { name: "Shirts", parentId: $p, position: 1 } }) { category { rowId } }
     }`,
    { p: rootId },
  );
  productIds = [];
  for (const [index, price] of ["10.00", "20.00", "30.00"].entries())
    productIds.push(
      await createProduct(app, store.admin, { name: `Product ${index}`, price, categoryId: rootId, stock: 5 }),
    );
});
afterAll(() => app.stop());

test("a referred customer buys through the bot and the referrer earns the bot's percent", async () => {
  const api = bot(app, store);
  const referrer = await api.post("/api/bot/customers", { telegramId: 5001, firstName: "Ref" });
  expect(referrer.status).toBe(201);
  const buyer = await api.post("/api/bot/customers", {
    telegramId: 5002,
    username: "buyer",
    firstName: "Buyer",
    languageCode: "en",
    referrerTelegramId: 5001,
  });
  expect(buyer.status).toBe(201);
  expect(buyer.body).toMatchObject({ telegramId: 5002, referrerTelegramId: 5001, username: "buyer" });
  // The same telegram id again is the same customer (200), and the referrer cannot change.
  const again = await api.post("/api/bot/customers", { telegramId: 5002, firstName: "B.", referrerTelegramId: 9 });
  expect(again.status).toBe(200);
  expect(again.body).toMatchObject({ id: buyer.body.id, firstName: "B.", referrerTelegramId: 5001 });

  const tree = await api.get("/api/bot/catalog/categories");
  expect(tree.status).toBe(200);
  expect(tree.body.categories).toEqual([
    expect.objectContaining({ name: "Merch", children: [expect.objectContaining({ name: "Shirts", children: [] })] }),
  ]);

  const first = await api.get("/api/bot/catalog/products?limit=2&sort=price");
  expect(first.status).toBe(200);
  expect(first.body.items.map((p: { price: string }) => p.price)).toEqual(["10.00", "20.00"]);
  expect(first.body.nextCursor).toEqual(expect.any(String));
  const second = await api.get(`/api/bot/catalog/products?limit=2&sort=price&cursor=${first.body.nextCursor}`);
  expect(second.body.items.map((p: { price: string }) => p.price)).toEqual(["30.00"]);
  expect(second.body.nextCursor).toBeNull();

  await fundCustomer(app, store.admin, buyer.body.id, "100.00");
  const order = await api.post("/api/bot/orders", {
    telegramId: 5002,
    items: [
      { productId: productIds[0], quantity: 2 },
      { productId: productIds[2], quantity: 1 },
    ],
  });
  expect(order.status).toBe(201);
  expect(order.body).toMatchObject({ status: "pending", total: "50.00", currency: "USD", botId: store.botId });

  const paid = await api.post(`/api/bot/orders/${order.body.id}/pay`, { method: "balance" });
  expect(paid.status).toBe(200);
  expect(paid.body).toMatchObject({ id: order.body.id, status: "paid", paidAt: expect.any(String) });

  expect((await api.get("/api/bot/customers/5002/balance")).body).toEqual({ balance: "50.00", currency: "USD" });
  const orders = await api.get("/api/bot/customers/5002/orders");
  expect(orders.body.items).toEqual([expect.objectContaining({ id: order.body.id, status: "paid" })]);
  expect((await api.get(`/api/bot/orders/${order.body.id}`)).body.items).toHaveLength(2);

  const analytics = await api.get("/api/bot/customers/5001/referral-analytics");
  expect(analytics.status).toBe(200);
  expect(analytics.body).toMatchObject({
    referralsCount: 1,
    payingReferralsCount: 1,
    totalEarned: "5.00",
    currency: "USD",
    earnedPerBot: [{ botId: store.botId, botName: "Store bot", earned: "5.00" }],
    recentPayouts: [{ amount: "5.00", botId: store.botId, orderId: order.body.id }],
  });
  expect((await api.get("/api/bot/customers/5001/balance")).body.balance).toBe("5.00");
  // Stock went down by what was paid for.
  const { rows } = await app.db.ownerPool.query(
    "select stock from app_public.products where id = any($1) order by price",
    [productIds],
  );
  expect(rows.map((row) => row.stock)).toEqual([3, 5, 4]);
});
