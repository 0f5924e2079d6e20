/**
 * The issuing jobs of an order run side by side, in the worker's runner for Contms
 * (CONTMS_CONCURRENCY slots): a provider that hangs fills those slots and no others, so the
 * worker's other jobs (here the next order's domain event) keep running.
 */
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { type ContmsServer, startContmsServer } from "../helpers/contmsServer.ts";
import { until } from "../helpers/wait.ts";
import { createStore, type TestStore } from "../commerce/store.ts";
import { buy, planProduct } from "./shop.ts";

let contms: ContmsServer;
let app: TestApp;
let store: TestStore;

beforeAll(async () => {
  contms = await startContmsServer();
  contms.products = [{ id: "vpn-30", name: "VPN", price: "9.99", currency: "USD", durationDays: 30 }];
  // The app's own worker runs every job of this file: two shared slots, two for Contms.
  app = await startTestApp({ env: { ...contms.env, CONTMS_CONCURRENCY: "2" }, worker: true });
  store = await createStore(app);
});
afterAll(async () => {
  await app.stop();
  await contms.stop();
});

const subscriptionsOf = async (orderId: string) =>
  (
    await app.db.ownerPool.query<{ status: string }>(
      "select status from app_public.subscriptions where order_id = $1",
      [orderId],
    )
  ).rows.map((row) => row.status);

test("an order's subscriptions are issued side by side, not one per poll of the worker", async () => {
  await app.db.ownerPool.query("select graphile_worker.add_job('sync_subscription_plans', '{}')");
  let vpn: { id: string } | undefined;
  await until(
    async () => (vpn = await planProduct(app.db.ownerPool, store.tenant.id, "vpn-30")) !== undefined,
    "the plan",
  );

  const release = contms.holdIssues();
  const { orderId } = await buy(app, store, 9001, vpn!.id, 3);
  // Fails on migration 000069's queue: the second call waited for the first to be answered.
  await until(() => contms.issuesInFlight() === 2, "two issuing calls at the provider at once");
  release();
  await until(
    async () => (await subscriptionsOf(orderId)).join() === "active,active,active",
    "the three subscriptions to be issued",
  );
});

test("a provider that hangs holds the Contms slots only: the worker's other jobs keep running", async () => {
  const vpn = (await planProduct(app.db.ownerPool, store.tenant.id, "vpn-30"))!;
  const release = contms.holdIssues();
  try {
    const first = await buy(app, store, 9002, vpn.id, 3);
    await until(() => contms.issuesInFlight() === 2, "both Contms slots held by the provider");
    // The next order's order_paid event runs in a shared slot while both calls still hang: had the
    // issuing jobs shared those slots, it would wait for the calls' 15 s timeout.
    const second = await buy(app, store, 9003, vpn.id, 1);
    await until(async () => (await subscriptionsOf(second.orderId)).length === 1, "the next order's subscription row");
    expect([await subscriptionsOf(second.orderId), contms.issuesInFlight()]).toEqual([["pending"], 2]);
    release();
    await until(
      async () =>
        [...(await subscriptionsOf(first.orderId)), ...(await subscriptionsOf(second.orderId))].join() ===
        "active,active,active,active",
      "the four subscriptions to be issued",
    );
  } finally {
    release();
  }
});
