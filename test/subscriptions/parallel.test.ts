/**
 * The issuing jobs of an order run side by side in the worker's slots. In one named queue (migration
 * 000069, undone by 000071) they ran one per poll of the worker, about one every two
 * seconds for every store together: an order of 10,000 units held all issuance for hours.
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
  // The app's own worker (two slots) runs every job of this file.
  app = await startTestApp({ env: contms.env, worker: true });
  store = await createStore(app);
});
afterAll(async () => {
  await app.stop();
  await contms.stop();
});

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
  await until(async () => {
    const { rows } = await app.db.ownerPool.query<{ status: string }>(
      "select status from app_public.subscriptions where order_id = $1",
      [orderId],
    );
    return rows.length === 3 && rows.every((row) => row.status === "active");
  }, "the three subscriptions to be issued");
});
