/**
 * What a careless or hostile bot sends: each answer is a documented 4xx with the error envelope,
 * never a 500, and nothing is written.
 */
import request from "supertest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { bot, createProduct, createStore, type TestStore } from "./store.ts";

let app: TestApp;
let store: TestStore;
let productId: string;

beforeAll(async () => {
  app = await startTestApp({ env: { BOT_API_RATE_LIMIT: "100000" } });
  store = await createStore(app);
  productId = await createProduct(app, store.admin, { name: "Thing", price: "2.00", stock: 3 });
  await bot(app, store).post("/api/bot/customers", { telegramId: 31337 });
});
afterAll(() => app.stop());

const rowCounts = async () =>
  (
    await app.db.ownerPool.query(
      `select (select count(*) from app_public.orders)::int as orders,
              (select count(*) from app_public.order_items)::int as items,
              (select count(*) from app_public.customers)::int as customers,
              (select count(*) from app_public.transactions)::int as ledger`,
    )
  ).rows[0];

test("quantity 0 is refused by REST with VALIDATION_FAILED naming the field", async () => {
  const answer = await bot(app, store).post("/api/bot/orders", {
    telegramId: 31337,
    items: [{ productId, quantity: 0 }],
  });
  expect(answer.status).toBe(400);
  expect(answer.body.error.code).toBe("VALIDATION_FAILED");
  expect(Object.keys(answer.body.error.details.fields)).toEqual(["items.0.quantity"]);
  // A huge one is told the order's limit, not JavaScript's largest safe integer.
  const huge = await bot(app, store).post("/api/bot/orders", {
    telegramId: 31337,
    items: [{ productId, quantity: 1e300 }],
  });
  expect(huge.body.error.details.fields).toEqual({ "items.0.quantity": "Too big: expected number to be <=10000" });
});

test("hostile order bodies: each a 4xx from the table, nothing written", async () => {
  const before = await rowCounts();
  const bodies: unknown[] = [
    {},
    { telegramId: 31337, items: [] },
    { telegramId: 31337, items: Array.from({ length: 101 }, () => ({ productId, quantity: 1 })) },
    { telegramId: 31337, items: [{ productId, quantity: -1 }] },
    { telegramId: 31337, items: [{ productId, quantity: 1.5 }] },
    { telegramId: 31337, items: [{ productId, quantity: "1" }] },
    { telegramId: 31337, items: [{ productId, quantity: 1e308 }] },
    { telegramId: 31337, items: [{ productId: "not-a-uuid", quantity: 1 }] },
    { telegramId: 31337, items: [{ productId, quantity: 1, price: "0.01" }] },
    { telegramId: -5, items: [{ productId, quantity: 1 }] },
    { telegramId: 2 ** 64, items: [{ productId, quantity: 1 }] },
    { telegramId: "31337", items: [{ productId, quantity: 1 }] },
    { telegramId: null, items: null },
    [1, 2, 3],
  ];
  for (const body of bodies) {
    const answer = await bot(app, store).post("/api/bot/orders", body as object);
    expect({ body, status: answer.status, code: answer.body.error?.code }).toEqual({
      body,
      status: 400,
      code: "VALIDATION_FAILED",
    });
  }
  // Well-formed but impossible: more than the stock, an unknown product, an unknown customer.
  const impossible: Array<[object, number, string]> = [
    [{ telegramId: 31337, items: [{ productId, quantity: 4 }] }, 409, "OUT_OF_STOCK"],
    [{ telegramId: 31337, items: [{ productId: crypto.randomUUID(), quantity: 1 }] }, 404, "NOT_FOUND"],
    [{ telegramId: 999, items: [{ productId, quantity: 1 }] }, 404, "NOT_FOUND"],
  ];
  for (const [body, status, code] of impossible) {
    const answer = await bot(app, store).post("/api/bot/orders", body);
    expect({ body, status: answer.status, code: answer.body.error?.code }).toEqual({ body, status, code });
  }
  expect(await rowCounts()).toEqual(before);
});

test("a truncated or malformed JSON body is 400; a wrong content type is refused, never 500", async () => {
  const send = (body: string, type = "application/json") =>
    request(app.url)
      .post("/api/bot/orders")
      .set({ "X-API-KEY": store.apiKey, "X-BOT-ID": store.botId, "Content-Type": type })
      .send(body);
  for (const body of ['{"telegramId": 31337, "items": [', "{", "nul", '{"telegramId":1}{}']) {
    const answer = await send(body);
    expect({ body, status: answer.status, code: answer.body.error?.code }).toEqual({
      body,
      status: 400,
      code: "VALIDATION_FAILED",
    });
  }
  const text = await send("telegramId=1", "text/plain");
  expect(text.status).toBeGreaterThanOrEqual(400);
  expect(text.status).toBeLessThan(500);
});

test("paths and queries: malformed ids and list parameters are 400, unknown ones 404", async () => {
  const api = bot(app, store);
  const cases: Array<[string, number, string]> = [
    ["/api/bot/customers/abc", 400, "VALIDATION_FAILED"],
    ["/api/bot/customers/0", 400, "VALIDATION_FAILED"],
    ["/api/bot/customers/99999999999999999999", 400, "VALIDATION_FAILED"],
    ["/api/bot/customers/123", 404, "NOT_FOUND"],
    ["/api/bot/orders/not-a-uuid", 400, "VALIDATION_FAILED"],
    [`/api/bot/orders/${crypto.randomUUID()}`, 404, "NOT_FOUND"],
    ["/api/bot/catalog/products?limit=0", 400, "VALIDATION_FAILED"],
    ["/api/bot/catalog/products?limit=101", 400, "VALIDATION_FAILED"],
    ["/api/bot/catalog/products?sort=-secret", 400, "VALIDATION_FAILED"],
    ["/api/bot/catalog/products?sort=name,price", 400, "VALIDATION_FAILED"],
    ["/api/bot/catalog/products?cursor=AAAA", 400, "VALIDATION_FAILED"],
    ["/api/bot/catalog/products?filter[price][gte]=NaN", 400, "VALIDATION_FAILED"],
    ["/api/bot/catalog/products?filter[price][gte]=Infinity", 400, "VALIDATION_FAILED"],
    ["/api/bot/catalog/products?filter[owner]=x", 400, "VALIDATION_FAILED"],
    ["/api/bot/catalog/products?filter[category]=x", 400, "VALIDATION_FAILED"],
    ["/api/bot/catalog/products?filter[text]=%00", 400, "VALIDATION_FAILED"],
    ["/api/bot/customers/31337/balance?currency=usd", 400, "VALIDATION_FAILED"],
  ];
  for (const [path, status, code] of cases) {
    const answer = await api.get(path);
    expect({ path, status: answer.status, code: answer.body.error?.code }).toEqual({ path, status, code });
  }
  // A cursor made for one sort is refused for another.
  const page = await api.get("/api/bot/catalog/products?limit=1&sort=price");
  const other = await api.get(`/api/bot/catalog/products?limit=1&sort=name&cursor=${page.body.nextCursor ?? "x"}`);
  expect(other.status).toBe(400);
});

test("text search treats %, _ and backslashes as themselves", async () => {
  const api = bot(app, store);
  const all = await api.get("/api/bot/catalog/products?filter[text]=%25");
  expect(all.status).toBe(200);
  expect(all.body.items).toEqual([]);
  expect((await api.get("/api/bot/catalog/products?filter[text]=hin")).body.items).toHaveLength(1);
});
