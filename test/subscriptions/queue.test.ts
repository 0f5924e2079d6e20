/**
 * A provider that hangs holds one worker slot, not one per pending subscription: the issuing jobs
 * share the `contms` queue and run one at a time, and the worker's other slots keep running the
 * deployment's other jobs meanwhile.
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

const syncPlans = () => app.db.ownerPool.query("select graphile_worker.add_job('sync_subscription_plans', '{}')");

test("a hanging provider holds one slot: issuing waits in line while other jobs run", async () => {
  await syncPlans();
  let vpn: { id: string } | undefined;
  await until(
    async () => (vpn = await planProduct(app.db.ownerPool, store.tenant.id, "vpn-30")) !== undefined,
    "the plan",
  );

  const release = contms.holdIssues();
  const { orderId } = await buy(app, store, 9001, vpn!.id, 3);
  await until(() => contms.issuesInFlight().now === 1, "the first issuing call to reach the provider");
  // The second slot is free: a plan sync, which asks the same provider for its products, runs now.
  const listings = contms.productListings();
  await syncPlans();
  await until(() => contms.productListings() > listings, "a plan sync to run while the provider hangs");
  expect(contms.issuesInFlight().now).toBe(1);

  release();
  await until(async () => {
    const { rows } = await app.db.ownerPool.query<{ status: string }>(
      "select status from app_public.subscriptions where order_id = $1",
      [orderId],
    );
    return rows.length === 3 && rows.every((row) => row.status === "active");
  }, "the three subscriptions to be issued");
  expect(contms.issuesInFlight().most).toBe(1);
});
