/**
 * The worker's part: the provider's catalogue synced into the stores (cron), the order_paid
 * consumer that makes a paid order's subscriptions, and the job that has each one issued.
 */
import type { JobHelpers } from "graphile-worker";
import { z } from "zod";
import type { TaskDefinition } from "../../platform/modules.ts";
import type { Consumer } from "../../platform/worker/consumers.ts";
import { subscriptionsConfig } from "./config.ts";
import { ContmsError, type ContmsProduct, contmsClient } from "./contms.ts";
import { credentialsBox, sealCredentials } from "./credentials.ts";

/** Every 10 minutes: the provider's products into every store with commerce on. */
export const syncSubscriptionPlans: TaskDefinition<unknown> = {
  payload: z.unknown(),
  async run(_payload, helpers, { config }) {
    const contms = config ? subscriptionsConfig.of(config).contms : undefined;
    if (!contms) {
      helpers.logger.debug("sync_subscription_plans: CONTMS_API_URL is not set; nothing to sync");
      return;
    }
    const items = await contmsClient(contms).listProducts();
    const problem = await catalogueProblem(items, helpers);
    if (problem) throw new ContmsError(`Contms GET /products answered an unexpected body (${problem})`);
    const { rows } = await helpers.query<{ tenant_id: string; upserted: number; deactivated: number }>(
      "select tenant_id, upserted, deactivated from app_private.sync_subscription_plans($1::jsonb)",
      [JSON.stringify(items)],
    );
    const deactivated = rows.reduce((sum, row) => sum + row.deactivated, 0);
    helpers.logger.info(
      `sync_subscription_plans: ${items.length} products into ${rows.length} stores, ${deactivated} deactivated`,
    );
  },
};

/**
 * A name the stores' products cannot take: one that shows nothing, or holds a line break or a
 * control character (the products table's checks, the same functions, would fail the sync with a SQL
 * error instead). Named by item, as the answer's schema names its problems.
 */
async function catalogueProblem(items: ContmsProduct[], helpers: JobHelpers): Promise<string | undefined> {
  const { rows } = await helpers.query<{ n: string; visible: boolean }>(
    `select n, app_hidden.is_visible_text(name) as visible from unnest($1::text[]) with ordinality as i(name, n)
     where not app_hidden.is_visible_text(name) or not app_hidden.is_one_line_text(name) limit 1`,
    [items.map((item) => item.name)],
  );
  const bad = rows[0];
  if (!bad) return undefined;
  const message = bad.visible ? "must be one line without control characters" : "must show something";
  return `items.${Number(bad.n) - 1}.name: ${message}`;
}

/** order_paid → the order's subscriptions (pending) and an issue_subscription job each, in its transaction. */
export const orderSubscriptions: Consumer = {
  name: "order_subscriptions",
  async handle(client, event) {
    await client.query("select app_private.create_order_subscriptions($1::uuid)", [event.aggregate_id]);
  },
};

interface PendingSubscription {
  status: "pending" | "active" | "failed";
  telegram_id: string;
  provider_product_id: string | null;
}

const PENDING_SQL = `
  select s.status, c.telegram_id::text as telegram_id, p.provider_product_id
  from app_public.subscriptions s
  join app_public.customers c on c.id = s.customer_id
  left join app_public.subscription_plans p on p.product_id = s.product_id
  where s.id = $1`;

/**
 * Asks the provider for one subscription (reference: our subscription's id, so a retried call is the
 * same subscription there) and stores the answer once. Any failure throws: graphile-worker retries
 * with its backoff; the last attempt marks the subscription failed (a retry by an admin may still
 * issue it).
 */
export const issueSubscription: TaskDefinition<{ subscriptionId: string }> = {
  payload: z.object({ subscriptionId: z.uuid() }),
  async run({ subscriptionId }, helpers, { config }) {
    const { rows } = await helpers.query<PendingSubscription>(PENDING_SQL, [subscriptionId]);
    const subscription = rows[0];
    if (!subscription) {
      helpers.logger.warn(`issue_subscription: subscription ${subscriptionId} does not exist`);
      return;
    }
    if (subscription.status === "active") return;
    try {
      if (!config) throw new Error("issue_subscription: the worker was started without its configuration");
      const contms = subscriptionsConfig.of(config).contms;
      if (!contms) throw new Error("issue_subscription: CONTMS_API_URL is not set; the provider cannot be asked");
      if (!subscription.provider_product_id)
        throw new Error("issue_subscription: the product is not one of the provider's plans");
      const issued = await contmsClient(contms).issue({
        productId: subscription.provider_product_id,
        reference: subscriptionId,
        customer: { telegramId: Number(subscription.telegram_id) },
      });
      const sealed = sealCredentials(credentialsBox(config), issued);
      await helpers.query("select app_private.record_issued_subscription($1, $2, $3, $4)", [
        subscriptionId,
        issued.id,
        issued.expiresAt ?? null,
        sealed,
      ]);
    } catch (error) {
      if (helpers.job.attempts >= helpers.job.max_attempts)
        await helpers.query(
          "update app_public.subscriptions set status = 'failed' where id = $1 and status <> 'active'",
          [subscriptionId],
        );
      throw error;
    }
  },
};
