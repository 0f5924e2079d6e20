/**
 * Shared setup of the subscriptions tests: the worker's real tasks run through graphile-worker
 * (`runDueJobs`) with a configuration of the test's choosing, and a customer who buys a product
 * through the bot API (funded by the admin, paid from the balance).
 */
import type pg from "pg";
import { loadConfig, MODULES } from "../../src/modules/index.ts";
import type { Config } from "../../src/platform/config.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { makeTaskList } from "../../src/platform/worker/registry.ts";
import type { TestApp } from "../helpers/app.ts";
import { TEST_JWT_SECRET } from "../helpers/fixtures.ts";
import { runDueJobs } from "../helpers/jobs.ts";
import { bot, fundCustomer, type TestStore } from "../commerce/store.ts";

/** A configuration without CONTMS_API_URL (everything else as the test app's). */
export const configWithoutContms = (): Config =>
  loadConfig({ APP_ENV: "test", JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: "silent" });

const TASKS = ["domain_event", "sync_subscription_plans", "issue_subscription"] as const;

/** Runs the due jobs of the outbox and of this module (or only `tasks`) with `config` (the app's by default). */
export async function runJobs(
  app: TestApp,
  config: Config = app.config,
  tasks: ReadonlyArray<(typeof TASKS)[number]> = TASKS,
): Promise<void> {
  const all = makeTaskList({ modules: MODULES, mail: app.config.mail, logger: createLogger("silent"), config });
  await runDueJobs(app.db.ownerPool, Object.fromEntries(tasks.map((name) => [name, all[name]!])));
}

/** What the crontab line does every 10 minutes, now: one sync job, run to its end. */
export async function syncNow(app: TestApp, config: Config = app.config): Promise<void> {
  await app.db.ownerPool.query("select graphile_worker.add_job('sync_subscription_plans', '{}')");
  await runJobs(app, config);
}

/** The store's product made from the provider's product `providerId`. */
export async function planProduct(pool: pg.Pool, tenantId: string, providerId: string) {
  const { rows } = await pool.query<{ id: string; name: string; price: string; active: boolean; kind: string }>(
    `select p.id, p.name, p.price::text, p.active, p.kind from app_public.products p
     join app_public.subscription_plans s on s.product_id = p.id
     where s.tenant_id = $1 and s.provider_product_id = $2`,
    [tenantId, providerId],
  );
  return rows[0];
}

/** A customer of the store who orders `quantity` of the product and pays it from their balance. */
export async function buy(
  app: TestApp,
  store: TestStore,
  telegramId: number,
  productId: string,
  quantity = 1,
): Promise<{ orderId: string; customerId: string }> {
  const api = bot(app, store);
  const customer = await api.post("/api/bot/customers", { telegramId, firstName: "Buyer" });
  expect([200, 201]).toContain(customer.status);
  await fundCustomer(app, store.admin, customer.body.id, "1000.00");
  const order = await api.post("/api/bot/orders", { telegramId, items: [{ productId, quantity }] });
  expect(order.status).toBe(201);
  const paid = await api.post(`/api/bot/orders/${order.body.id}/pay`, { method: "balance" });
  expect(paid.status).toBe(200);
  return { orderId: order.body.id, customerId: customer.body.id };
}
