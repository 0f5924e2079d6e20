/**
 * The store as admins manage it through GraphQL: permissions per built-in role, tenant isolation,
 * values the database refuses, and API keys whose secret is shown once.
 */
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createUser, type TestUser } from "../helpers/fixtures.ts";
import { bot, createProduct, createStore, gql, type TestStore, errorCodes } from "./store.ts";

let app: TestApp;
let store: TestStore;
let other: TestStore;
let manager: TestUser;
let member: TestUser;

beforeAll(async () => {
  app = await startTestApp();
  store = await createStore(app);
  other = await createStore(app);
  manager = await createUser(app.db.ownerPool, store.tenant, "manager");
  member = await createUser(app.db.ownerPool, store.tenant, "member");
});
afterAll(() => app.stop());

const CREATE_PRODUCT = `mutation($product: ProductInput!) {
  createProduct(input: { product: $product }) { product { rowId price } } }`;

test("catalog.manage: a manager adds products, a member is refused, another tenant sees none of them", async () => {
  const made = await gql(app, manager.token, CREATE_PRODUCT, { product: { name: "Mug", price: "8.50" } });
  expect(made.createProduct.product.price).toBe("8.50");
  const refused = await app.graphql(CREATE_PRODUCT, { product: { name: "Nope", price: "1" } }, member.token);
  expect(errorCodes(refused.body)).toEqual(["FORBIDDEN"]);
  // A member still reads the catalog; another tenant's admin reads none of it.
  const mine = await gql(app, member.token, "{ products { nodes { name } } }");
  expect(mine.products.nodes.map((p: { name: string }) => p.name)).toEqual(["Mug"]);
  const theirs = await gql(app, other.admin.token, "{ products { nodes { name } } }");
  expect(theirs.products.nodes).toEqual([]);
});

test("signed out, a generated mutation answers UNAUTHENTICATED (sign in first), as the others do", async () => {
  // Fails on the code before: FORBIDDEN "You are not allowed to do this." (the database's 42501).
  const CREATE_CATEGORY = `mutation($category: CategoryInput!) { createCategory(input: { category: $category }) {
    category { rowId } } }`;
  for (const [query, variables] of [
    [CREATE_PRODUCT, { product: { name: "Nope", price: "1" } }],
    [CREATE_CATEGORY, { category: { name: "Nope" } }],
  ] as const) {
    const refused = await app.graphql(query, variables);
    expect(refused.body.errors).toEqual([
      expect.objectContaining({ message: "Sign in first.", extensions: { code: "UNAUTHENTICATED" } }),
    ]);
  }
  // Signed in without the permission, the refusal stays FORBIDDEN (above), and nothing was written.
  const { rows } = await app.db.ownerPool.query(
    "select count(*)::int as n from app_public.products where name = 'Nope'",
  );
  expect(rows).toEqual([{ n: 0 }]);
});

test("prices and stock the database refuses: negative, NaN, infinite, negative stock → VALIDATION_FAILED", async () => {
  for (const product of [
    { name: "x", price: "-1" },
    { name: "x", price: "NaN" },
    { name: "x", price: "Infinity" },
    { name: "x", price: "1e30" },
    { name: "x", price: "1", stock: -1 },
    { name: "", price: "1" },
    { name: "x", price: "1", kind: "service" },
  ]) {
    const answer = await app.graphql(CREATE_PRODUCT, { product }, store.admin.token);
    expect({ product, codes: errorCodes(answer.body) }).toEqual({ product, codes: ["VALIDATION_FAILED"] });
  }
  const { rows } = await app.db.ownerPool.query("select count(*)::int as n from app_public.products where name = 'x'");
  expect(rows[0].n).toBe(0);
  // A price past numeric(18,2) says so (it was "The input is not valid.", naming nothing).
  const huge = await app.graphql(CREATE_PRODUCT, { product: { name: "x", price: "1e30" } }, store.admin.token);
  const outOfRange =
    "A number is out of the range its field holds " +
    "(an amount has at most 16 digits before the point, an id at most 19).";
  expect(huge.body.errors?.map((error) => error.message)).toEqual([outOfRange]);
  // An id past bigint says the same, not only what an amount holds (it spoke of amounts alone).
  const job = await app.graphql(
    `mutation { retryJob(input: { jobId: "9223372036854775808" }) { clientMutationId } }`,
    {},
    store.admin.token,
  );
  expect(job.body.errors?.map((error) => [error.extensions?.code, error.message])).toEqual([
    ["VALIDATION_FAILED", outOfRange],
  ]);
});

test("a price is read as the decimal it is written: 0x10, 1_0, ' 1' are refused, not stored as 16, 10, 1", async () => {
  for (const price of ["0x10", "0b11", "0o17", "1_0", " 1", "1 ", "+ 1", "1.2.3", "", "1e", "1e99999", true]) {
    const answer = await app.graphql(CREATE_PRODUCT, { product: { name: "hex", price } }, store.admin.token);
    expect({ price, codes: errorCodes(answer.body) }).toEqual({ price, codes: ["VALIDATION_FAILED"] });
  }
  const literal = await app.graphql(
    `mutation { createProduct(input: { product: { name: "hex", price: "0x10" } }) { product { rowId } } }`,
    {},
    store.admin.token,
  );
  expect(errorCodes(literal.body)).toEqual(["VALIDATION_FAILED"]);
  const { rows } = await app.db.ownerPool.query(
    "select count(*)::int as n from app_public.products where name = 'hex'",
  );
  expect(rows[0].n).toBe(0);
  // BigInt ids alike: digits only.
  const BOT_EVENT = "query ($id: BigInt!) { botEvent(rowId: $id) { rowId } }";
  for (const id of ["0x10", "1_0", " 1", "1.5", "1e3"]) {
    const answer = await app.graphql(BOT_EVENT, { id }, store.admin.token);
    expect({ id, codes: errorCodes(answer.body) }).toEqual({ id, codes: ["VALIDATION_FAILED"] });
  }
  expect(await gql(app, store.admin.token, BOT_EVENT, { id: "16" })).toEqual({ botEvent: null });
  // Decimal forms, as a string or a JSON number, and an exponent, are prices.
  for (const [price, stored] of [
    ["12.50", "12.50"],
    [7.25, "7.25"],
    ["1e2", "100.00"],
    [".5", "0.50"],
  ] as const) {
    const made = await gql(app, store.admin.token, CREATE_PRODUCT, { product: { name: `p${price}`, price } });
    expect(made.createProduct.product.price).toBe(stored);
  }
  // Written into the document as a number, unquoted, it is a price too (it was "BigFloat can only
  // parse string values" before the fix).
  for (const [literal, stored] of [
    ["3", "3.00"],
    ["0.5", "0.50"],
    ["2e1", "20.00"],
  ]) {
    const made = await gql(
      app,
      store.admin.token,
      `mutation { createProduct(input: { product: { name: "lit${literal}", price: ${literal} } }) ` +
        "{ product { price } } }",
    );
    expect([literal, made.createProduct.product.price]).toEqual([literal, stored]);
  }
});

test("a product's image must be one the tenant uploaded, while media is on: else NO_SUCH_IMAGE, alike", async () => {
  const noSuchImage = { code: "VALIDATION_FAILED", details: { field: "imageSha256", reason: "NO_SUCH_IMAGE" } };
  const ours = "b".repeat(64);
  const theirs = "f".repeat(64);
  for (const [tenant, sha] of [
    [store.tenant.id, ours],
    [other.tenant.id, theirs],
  ])
    await app.db.ownerPool.query(
      "insert into app_public.images (tenant_id, sha256, content_type, size) values ($1, $2, 'image/png', 10)",
      [tenant, sha],
    );
  const productId = await createProduct(app, store.admin, { name: "Plain", price: "1" });
  const update = (sha: string) =>
    app.graphql(
      `mutation($id: UUID!, $sha: String) { updateProduct(input: { rowId: $id, patch: { imageSha256: $sha } }) {
        product { imageSha256 } } }`,
      { id: productId, sha },
      store.admin.token,
    );
  // A hash nobody uploaded, and another tenant's image: the same answer, nothing written.
  for (const sha of ["a".repeat(64), theirs]) {
    const created = await app.graphql(
      CREATE_PRODUCT,
      { product: { name: "Pictured", price: "1", imageSha256: sha } },
      store.admin.token,
    );
    expect(created.body.errors?.[0]?.extensions).toEqual(noSuchImage);
    expect((await update(sha)).body.errors?.[0]?.extensions).toEqual(noSuchImage);
  }
  // The tenant's own image while media is off: as unknown as one nobody uploaded.
  const media = (enabled: boolean) =>
    app.db.ownerPool.query(
      "update app_public.tenant_modules set enabled = $2 where tenant_id = $1 and module = 'media'",
      [store.tenant.id, enabled],
    );
  await media(false);
  try {
    expect((await update(ours)).body.errors?.[0]?.extensions).toEqual(noSuchImage);
  } finally {
    await media(true);
  }
  expect((await update(ours)).body.data).toEqual({ updateProduct: { product: { imageSha256: ours } } });
  const { rows } = await app.db.ownerPool.query(
    "select count(*)::int as n from app_public.products where name = 'Pictured'",
  );
  expect(rows).toEqual([{ n: 0 }]);
});

test("API keys: apikeys.manage only; the secret is in the creating answer and nowhere else", async () => {
  const refused = await app.graphql(
    `mutation { createApiKey(input: { name: "m" }) { created { secret } } }`,
    {},
    manager.token,
  );
  expect(errorCodes(refused.body)).toEqual(["FORBIDDEN"]);
  const made = await gql(
    app,
    store.admin.token,
    `mutation { createApiKey(input: { name: "shown once" }) { created { secret apiKey { rowId prefix } } } }`,
  );
  const { secret, apiKey } = made.createApiKey.created;
  expect(secret.startsWith(apiKey.prefix)).toBe(true);
  const listed = await app.graphql("{ apiKeys { nodes { rowId name prefix } } }", {}, store.admin.token);
  expect(JSON.stringify(listed.body)).not.toContain(secret);
  // The key works for the store's bot.
  expect((await bot(app, { apiKey: secret, botId: store.botId }).get("/api/bot/catalog/categories")).status).toBe(200);
  // Members do not list keys; another tenant's admin sees none of these.
  expect((await gql(app, member.token, "{ apiKeys { nodes { rowId } } }")).apiKeys.nodes).toEqual([]);
  const theirs = await gql(app, other.admin.token, "{ apiKeys { nodes { name } } }");
  expect(theirs.apiKeys.nodes.map((k: { name: string }) => k.name)).not.toContain("shown once");
});

test("adjustCustomerBalance needs ledger.manage and keeps balances at zero or above", async () => {
  const customer = await bot(app, store).post("/api/bot/customers", { telegramId: 4242 });
  const adjust = `mutation($c: UUID!, $a: BigFloat!) {
    adjustCustomerBalance(input: { customerId: $c, amount: $a, reason: "support" }) { transaction { amount type } } }`;
  expect(errorCodes((await app.graphql(adjust, { c: customer.body.id, a: "5" }, manager.token)).body)).toEqual([
    "FORBIDDEN",
  ]);
  const storeBalance = async () => Number((await gql(app, store.admin.token, "{ storeBalance }")).storeBalance);
  const storeBefore = await storeBalance();
  const funded = await gql(app, store.admin.token, adjust, { c: customer.body.id, a: "12.34" });
  // The money comes out of the store's account: the two accounts move together.
  expect(await storeBalance()).toBeCloseTo(storeBefore - 12.34, 2);
  expect(funded.adjustCustomerBalance.transaction).toEqual({ amount: "12.34", type: "adjustment" });
  const overdrawn = await app.graphql(adjust, { c: customer.body.id, a: "-12.35" }, store.admin.token);
  expect(errorCodes(overdrawn.body)).toEqual(["INSUFFICIENT_BALANCE"]);
  // Another tenant's admin cannot reach this customer.
  const foreign = await app.graphql(adjust, { c: customer.body.id, a: "1" }, other.admin.token);
  expect(errorCodes(foreign.body)).toEqual(["NOT_FOUND"]);
  expect((await bot(app, store).get("/api/bot/customers/4242/balance")).body.balance).toBe("12.34");
  // An exponent is a decimal number's (1e1 is 10.00); one that rounds to no money is refused, and adds no entry.
  const tenMore = await gql(app, store.admin.token, adjust, { c: customer.body.id, a: "1e1" });
  expect(tenMore.adjustCustomerBalance.transaction).toEqual({ amount: "10.00", type: "adjustment" });
  for (const nothing of ["1e-400", "0.001", "-0.004"]) {
    const refused = await app.graphql(adjust, { c: customer.body.id, a: nothing }, store.admin.token);
    expect([nothing, errorCodes(refused.body)]).toEqual([nothing, ["VALIDATION_FAILED"]]);
  }
  expect((await bot(app, store).get("/api/bot/customers/4242/balance")).body.balance).toBe("22.34");
});

test("storeBalance reads a sum past what one entry holds (10^16), to the cent", async () => {
  const adjust = `mutation($c: UUID!, $a: BigFloat!) {
    adjustCustomerBalance(input: { customerId: $c, amount: $a, reason: "big", currency: "XTS" }) {
      transaction { amount } } }`;
  for (const [telegramId, amount] of [
    [4301, "9999999999999999.99"],
    [4302, "0.02"],
  ] as const) {
    const customer = await bot(app, store).post("/api/bot/customers", { telegramId });
    await gql(app, store.admin.token, adjust, { c: customer.body.id, a: amount });
  }
  // Each store entry fits numeric(18,2); their sum is one digit longer.
  expect((await gql(app, store.admin.token, '{ storeBalance(currency: "XTS") }')).storeBalance).toBe(
    "-10000000000000000.01",
  );
});

test("storeBalance refuses a currency that is not three capital letters", async () => {
  for (const currency of ["usd", "", "XXXX", "U$D"]) {
    const { body } = await app.graphql(
      "query($c: String) { storeBalance(currency: $c) }",
      { c: currency },
      store.admin.token,
    );
    expect([currency, errorCodes(body), body.errors?.[0]?.extensions]).toMatchObject([
      currency,
      ["VALIDATION_FAILED"],
      { details: { field: "currency" } },
    ]);
  }
  expect((await gql(app, store.admin.token, '{ storeBalance(currency: "EUR") }')).storeBalance).toBe("0.00");
});

test("a product deactivated by an admin leaves the bot's list", async () => {
  const productId = await createProduct(app, store.admin, { name: "Seasonal", price: "3.00" });
  const update = `mutation($id: UUID!) {
    updateProduct(input: { rowId: $id, patch: { active: false } }) { product { active } } }`;
  const list = async () =>
    (await bot(app, store).get("/api/bot/catalog/products?filter[text]=Seasonal")).body.items.map(
      (p: { id: string }) => p.id,
    );
  expect(await list()).toEqual([productId]);
  await gql(app, store.admin.token, update, { id: productId });
  expect(await list()).toEqual([]);
});
