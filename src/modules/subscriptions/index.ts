/**
 * Subscriptions: the store sells subscriptions of a provider (Contms). A cron job syncs the
 * provider's products into every store with commerce on; paying an order for one makes a pending
 * subscription whose job has the provider issue it; its credentials are kept sealed and handed to the
 * store's bots (`GET /api/bot/customers/{telegramId}/subscriptions`). Admins read subscriptions
 * through GraphQL (`orders.read`), never their credentials.
 */
import type { ModuleManifest } from "../../platform/modules.ts";
import { botRunner } from "../commerce/botAuth.ts";
import { SUBSCRIPTIONS_API } from "./api.ts";
import { CONTMS_DEFAULT_CONCURRENCY, subscriptionsConfig } from "./config.ts";
import { credentialsBox } from "./credentials.ts";
import { subscriptionImplementations } from "./routes.ts";
import { issueSubscription, orderSubscriptions, syncSubscriptionPlans } from "./tasks.ts";

export const subscriptions: ModuleManifest = {
  name: "subscriptions",
  config: subscriptionsConfig,
  api: SUBSCRIPTIONS_API,
  server({ config, logger, requestPool, database }) {
    // The bot authentication of every /api/bot/* route is commerce's (mounted before this one).
    const asBot = botRunner(requestPool, database.botRole, config.graphql.statementTimeoutMs);
    const box = credentialsBox(config);
    return { implementations: () => subscriptionImplementations(asBot, box, logger) };
  },
  tasks: { sync_subscription_plans: syncSubscriptionPlans, issue_subscription: issueSubscription },
  // A provider that hangs (15 s per call) holds only these slots: reminders, domain events and the
  // other stores' jobs keep the shared ones.
  runners: {
    contms: {
      tasks: ["issue_subscription", "sync_subscription_plans"],
      concurrency: (config) => (config ? subscriptionsConfig.of(config).concurrency : CONTMS_DEFAULT_CONCURRENCY),
    },
  },
  consumers: { order_paid: [orderSubscriptions] },
  crontab: ["*/10 * * * * sync_subscription_plans ?id=sync_subscription_plans&max=3"],
};
