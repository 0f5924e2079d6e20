/**
 * The provider's catalogue synced into the stores: every store with commerce on gets the provider's
 * products (kind subscription), updated on each run; products the provider stops listing are
 * deactivated (never deleted) and come back when listed again; the store's own products are left
 * alone; without CONTMS_API_URL the job does nothing.
 */
import { MODULES } from "../../src/modules/index.ts";
import { makeCrontab } from "../../src/platform/worker/registry.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { testPool } from "../helpers/database.ts";
import { type ContmsServer, type FakeProduct, startContmsServer } from "../helpers/contmsServer.ts";
import { createTenant } from "../helpers/fixtures.ts";
import { bot, createProduct, createStore, type TestStore } from "../commerce/store.ts";
import { configWithoutContms, planProduct, syncNow } from "./shop.ts";

let contms: ContmsServer;
let app: TestApp;
let storeA: TestStore;
let storeB: TestStore;
let ownProducts: string[];

const VPN = {
  id: "vpn-30",
  name: "VPN (30 days)",
  description: "Fast VPN",
  price: "9.99",
  currency: "USD",
  durationDays: 30,
};
const TV = { id: "tv-90", name: "TV (90 days)", description: null, price: "24.50", currency: "USD", durationDays: 90 };

beforeAll(async () => {
  contms = await startContmsServer({ token: `tok-${Math.random().toString(36).slice(2)}` });
  app = await startTestApp({ env: contms.env });
  storeA = await createStore(app);
  storeB = await createStore(app);
  ownProducts = [
    await createProduct(app, storeA.admin, { name: "T-shirt", price: "15.00" }),
    await createProduct(app, storeA.admin, { name: "Own subscription", price: "3.00", kind: "subscription" }),
  ];
});
afterAll(async () => {
  await app.stop();
  await contms.stop();
});

const ownRows = async () =>
  (
    await app.db.ownerPool.query(
      "select id, name, price::text, active, kind from app_public.products where id = any($1) order by name",
      [ownProducts],
    )
  ).rows;

test("the crontab syncs every 10 minutes, under an explicit id", () => {
  const item = makeCrontab(MODULES).find((cron) => cron.task === "sync_subscription_plans");
  expect(item).toMatchObject({ identifier: "sync_subscription_plans", match: expect.any(Function) });
});

test("a sync upserts the provider's products into every store, deactivates those it no longer lists", async () => {
  const before = await ownRows();
  contms.products = [VPN, TV];
  await syncNow(app);

  for (const store of [storeA, storeB]) {
    expect(await planProduct(app.db.ownerPool, store.tenant.id, "vpn-30")).toMatchObject({
      name: "VPN (30 days)",
      price: "9.99",
      active: true,
      kind: "subscription",
    });
    expect(await planProduct(app.db.ownerPool, store.tenant.id, "tv-90")).toMatchObject({
      price: "24.50",
      active: true,
    });
  }
  // The bots list them like any product of the store.
  const listed = await bot(app, storeB).get("/api/bot/catalog/products?filter[kind]=subscription");
  expect(listed.status).toBe(200);
  expect(listed.body.items.map((p: { name: string }) => p.name).sort()).toEqual(["TV (90 days)", "VPN (30 days)"]);

  // The provider drops TV and changes VPN's price: one product each, updated or deactivated.
  const vpnId = (await planProduct(app.db.ownerPool, storeA.tenant.id, "vpn-30"))!.id;
  contms.products = [{ ...VPN, price: "11.00", name: "VPN (1 month)" }];
  await syncNow(app);
  expect(await planProduct(app.db.ownerPool, storeA.tenant.id, "vpn-30")).toEqual({
    id: vpnId,
    name: "VPN (1 month)",
    price: "11.00",
    active: true,
    kind: "subscription",
  });
  expect(await planProduct(app.db.ownerPool, storeA.tenant.id, "tv-90")).toMatchObject({ active: false });
  expect(await planProduct(app.db.ownerPool, storeB.tenant.id, "tv-90")).toMatchObject({ active: false });
  const { rows } = await app.db.ownerPool.query(
    "select count(*)::int as n from app_public.subscription_plans where tenant_id = $1",
    [storeA.tenant.id],
  );
  expect(rows[0].n).toBe(2);
  const relisted = await bot(app, storeB).get("/api/bot/catalog/products?filter[kind]=subscription");
  expect(relisted.body.items.map((p: { name: string }) => p.name)).toEqual(["VPN (1 month)"]);

  // The store's own products, a subscription among them, are never touched.
  expect(await ownRows()).toEqual(before);
});

test("a product the sync deactivated comes back when listed again; one an admin deactivated stays off", async () => {
  contms.products = [VPN, TV];
  await syncNow(app);
  const tv = await planProduct(app.db.ownerPool, storeA.tenant.id, "tv-90");
  expect(tv).toMatchObject({ active: true });
  const vpn = (await planProduct(app.db.ownerPool, storeA.tenant.id, "vpn-30"))!;
  const { body } = await app.graphql(
    "mutation($id: UUID!) { updateProduct(input: { rowId: $id, patch: { active: false } }) { product { active } } }",
    { id: vpn.id },
    storeA.admin.token,
  );
  expect(body.errors).toBeUndefined();
  await syncNow(app);
  expect(await planProduct(app.db.ownerPool, storeA.tenant.id, "vpn-30")).toMatchObject({ active: false });
  expect(await planProduct(app.db.ownerPool, storeB.tenant.id, "vpn-30")).toMatchObject({ active: true });

  // Delisted, then listed again: the store whose product the delisting switched off gets it back; the
  // one whose admin had switched it off keeps it off.
  contms.products = [TV];
  await syncNow(app);
  expect(await planProduct(app.db.ownerPool, storeB.tenant.id, "vpn-30")).toMatchObject({ active: false });
  contms.products = [VPN, TV];
  await syncNow(app);
  expect(await planProduct(app.db.ownerPool, storeA.tenant.id, "vpn-30")).toMatchObject({ active: false });
  expect(await planProduct(app.db.ownerPool, storeB.tenant.id, "vpn-30")).toMatchObject({ active: true });
});

test("an admin's word on a delisted plan's product outlasts the delisting; it is switched on once listed", async () => {
  // Fails on the code before migration 000096: the product switched off while delisted came back
  // on with the listing, and one switched on while delisted stayed on sale.
  contms.products = [VPN, TV];
  await syncNow(app);
  const tv = (await planProduct(app.db.ownerPool, storeA.tenant.id, "tv-90"))!;
  const setActive = (active: boolean) =>
    app.graphql(
      `mutation($id: UUID!, $active: Boolean!) {
        updateProduct(input: { rowId: $id, patch: { active: $active } }) { product { active } }
      }`,
      { id: tv.id, active },
      storeA.admin.token,
    );
  contms.products = [VPN];
  await syncNow(app);
  expect(await planProduct(app.db.ownerPool, storeA.tenant.id, "tv-90")).toMatchObject({ active: false });

  const on = await setActive(true);
  expect(on.body.errors?.[0]?.extensions).toMatchObject({ code: "CONFLICT", details: { reason: "PLAN_DELISTED" } });
  expect(await planProduct(app.db.ownerPool, storeA.tenant.id, "tv-90")).toMatchObject({ active: false });

  const off = await setActive(false);
  expect(off.body.errors).toBeUndefined();
  contms.products = [VPN, TV];
  await syncNow(app);
  expect(await planProduct(app.db.ownerPool, storeA.tenant.id, "tv-90")).toMatchObject({ active: false });
  // The other store's admin said nothing: its product is back on sale.
  expect(await planProduct(app.db.ownerPool, storeB.tenant.id, "tv-90")).toMatchObject({ active: true });

  // Listed again, the admin may switch it on.
  const again = await setActive(true);
  expect(again.body).toEqual({ data: { updateProduct: { product: { active: true } } } });
});

test("a store with commerce off gets nothing", async () => {
  const off = await createTenant(app.db.ownerPool);
  await app.db.ownerPool.query(
    "update app_public.tenant_modules set enabled = false where tenant_id = $1 and module = 'commerce'",
    [off.id],
  );
  await syncNow(app);
  expect(await planProduct(app.db.ownerPool, off.id, "vpn-30")).toBeUndefined();
});

test("without CONTMS_API_URL the sync job does nothing (and succeeds)", async () => {
  const listings = contms.productListings();
  const count = async () =>
    (await app.db.ownerPool.query("select count(*)::int as n from app_public.products")).rows[0].n;
  const productsBefore = await count();
  contms.products = [];
  await syncNow(app, configWithoutContms());
  expect(contms.productListings()).toBe(listings);
  expect(await count()).toBe(productsBefore);
  expect(await planProduct(app.db.ownerPool, storeA.tenant.id, "tv-90")).toMatchObject({ active: true });
  const left = await app.db.ownerPool.query(
    "select 1 from graphile_worker.jobs where task_identifier = 'sync_subscription_plans'",
  );
  expect(left.rowCount).toBe(0);
});

test("a product that cannot be stored fails the sync naming it, not with a SQL error; nothing changes", async () => {
  // Fails on the code before the fix: the job's error was PostgreSQL's (a check constraint's name,
  // "invalid input syntax for type json").
  const before = await planProduct(app.db.ownerPool, storeA.tenant.id, "vpn-30");
  // Each case: the second item of the list, and the problem the job names (the first is VPN's).
  const cases: Array<[second: Partial<FakeProduct>, problem: string, first?: Partial<FakeProduct>]> = [
    [{ name: " \u3000\u200b " }, "items.1.name: must show something"],
    [{ name: "X\ud800" }, "items.1.name: must be well-formed Unicode without NUL"],
    [{ name: "a\u0000b" }, "items.1.name: must be well-formed Unicode without NUL"],
    // Before, the products table's check failed the sync with a SQL error.
    [{ name: "TV\n90 days" }, "items.1.name: must be one line without control characters"],
    [{ name: "TV\u0007" }, "items.1.name: must be one line without control characters"],
    // Before, the list was taken and the second of the two was kept.
    [{ id: "vpn-30" }, "items.1.id: repeats items.0.id"],
    [{ id: 7 as unknown as string }, "items.1.id: repeats items.0.id", { id: "7" }],
  ];
  for (const [second, problem, first] of cases) {
    contms.products = [
      { ...VPN, name: "VPN renamed", ...first },
      { ...TV, ...second },
    ];
    await syncNow(app);
    const { rows } = await app.db.ownerPool.query<{ last_error: string }>(
      `select last_error, graphile_worker.complete_jobs(array[id]) from graphile_worker.jobs
       where task_identifier = 'sync_subscription_plans'`,
    );
    expect([second, rows.map((row) => row.last_error.split("\n")[0])]).toEqual([
      second,
      [`Contms GET /products answered an unexpected body (${problem})`],
    ]);
    expect(await planProduct(app.db.ownerPool, storeA.tenant.id, "vpn-30")).toEqual(before);
  }
});

test("syncs at once (a cron run beside one enqueued by hand) take turns: each succeeds, one product each", async () => {
  // Fails on the code before the fix: both found no product and inserted one, and all but the first
  // failed on subscription_plans' unique key.
  const items = Array.from({ length: 20 }, (_, i) => ({ ...VPN, id: `race-${i}`, name: `Race ${i}` }));
  const pool = testPool(app.db.urls.ownerUrl, 4);
  try {
    const outcomes = await Promise.all(
      Array.from({ length: 4 }, () =>
        pool
          .query("select tenant_id from app_private.sync_subscription_plans($1::jsonb)", [JSON.stringify(items)])
          .then(
            () => "synced",
            (error: Error) => error.message,
          ),
      ),
    );
    expect(outcomes).toEqual(Array(4).fill("synced"));
  } finally {
    await pool.end();
  }
  for (const store of [storeA, storeB]) {
    const { rows } = await app.db.ownerPool.query(
      `select count(*)::int as plans from app_public.subscription_plans
       where tenant_id = $1 and provider_product_id like 'race-%'`,
      [store.tenant.id],
    );
    expect(rows).toEqual([{ plans: 20 }]);
  }
});
