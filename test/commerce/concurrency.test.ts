/**
 * Payments racing for the same stock and the same balance, with real concurrency (parallel HTTP
 * requests, each its own transaction): stock never below zero, balances never below zero, and a
 * refused payment changes nothing.
 */
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { bot, createProduct, createStore, fundCustomer, type TestStore } from "./store.ts";

let app: TestApp;
let store: TestStore;

beforeAll(async () => {
  app = await startTestApp({ env: { BOT_API_RATE_LIMIT: "100000" } });
  store = await createStore(app);
});
afterAll(() => app.stop());

async function customerWithOrder(telegramId: number, productId: string, funds: string): Promise<string> {
  const api = bot(app, store);
  const customer = await api.post("/api/bot/customers", { telegramId });
  await fundCustomer(app, store.admin, customer.body.id, funds);
  const order = await api.post("/api/bot/orders", { telegramId, items: [{ productId, quantity: 1 }] });
  expect(order.status).toBe(201);
  return order.body.id;
}

test("100 buyers pay at once for 10 left: 10 are paid, 90 get OUT_OF_STOCK and keep their money", async () => {
  const productId = await createProduct(app, store.admin, { name: "Scarce", price: "7.00", stock: 10 });
  const orders: string[] = [];
  for (let i = 0; i < 100; i++) orders.push(await customerWithOrder(10_000 + i, productId, "20.00"));

  const api = bot(app, store);
  const answers = await Promise.all(orders.map((id) => api.post(`/api/bot/orders/${id}/pay`, { method: "balance" })));

  const statuses = answers.map((answer) => answer.status);
  expect(statuses.filter((status) => status === 200)).toHaveLength(10);
  const refused = answers.filter((answer) => answer.status !== 200);
  expect(refused).toHaveLength(90);
  for (const answer of refused) expect(answer.body.error.code).toBe("OUT_OF_STOCK");

  const { rows: stock } = await app.db.ownerPool.query("select stock from app_public.products where id = $1", [
    productId,
  ]);
  expect(stock[0].stock).toBe(0);
  const { rows: balances } = await app.db.ownerPool.query<{ balance: string; paid: boolean }>(
    `select b.balance::text, o.status = 'paid' as paid
     from app_public.orders o join app_public.customer_balances b on b.customer_id = o.customer_id
     where o.id = any($1)`,
    [orders],
  );
  expect(balances.filter((row) => row.paid).map((row) => row.balance)).toEqual(Array(10).fill("13.00"));
  expect(balances.filter((row) => !row.paid).map((row) => row.balance)).toEqual(Array(90).fill("20.00"));
});

test("10 payments of 100 at once from a balance of 250: exactly 2 succeed and 50 is left", async () => {
  const productId = await createProduct(app, store.admin, { name: "Gift card", price: "100.00" });
  const api = bot(app, store);
  const customer = await api.post("/api/bot/customers", { telegramId: 20_000 });
  await fundCustomer(app, store.admin, customer.body.id, "250.00");
  const orders: string[] = [];
  for (let i = 0; i < 10; i++) {
    const order = await api.post("/api/bot/orders", { telegramId: 20_000, items: [{ productId, quantity: 1 }] });
    orders.push(order.body.id);
  }

  const answers = await Promise.all(orders.map((id) => api.post(`/api/bot/orders/${id}/pay`, { method: "balance" })));

  expect(answers.filter((answer) => answer.status === 200)).toHaveLength(2);
  for (const answer of answers.filter((a) => a.status !== 200)) {
    expect(answer.status).toBe(409);
    expect(answer.body.error.code).toBe("INSUFFICIENT_BALANCE");
  }
  expect((await api.get("/api/bot/customers/20000/balance")).body).toEqual({ balance: "50.00", currency: "USD" });
  const { rows } = await app.db.ownerPool.query(
    "select count(*)::int as n, sum(amount)::text as total from app_public.transactions where customer_id = $1",
    [customer.body.id],
  );
  // The funding and two purchases: nothing of the refused payments was written.
  expect(rows[0]).toEqual({ n: 3, total: "50.00" });
});
