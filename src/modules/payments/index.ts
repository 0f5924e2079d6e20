/**
 * Payments: money from outside for the bot store. Bots start payments of orders and deposits; a
 * provider (the mock shipped here, or the platform's payment system) issues the invoice; its signed
 * webhook, or the polling job when none comes, settles the payment: status, stock, ledger and
 * referral payout in one transaction; bots hear of it by polling their events or at their webhook.
 */
import { privateTargetProblem } from "../../platform/http/publicAddress.ts";
import type { ModuleManifest, TaskContext } from "../../platform/modules.ts";
import { botRunner } from "../commerce/botAuth.ts";
import { PAYMENTS_API } from "./api.ts";
import { pushBotEvent } from "./botEvents.ts";
import { type PaymentsConfig, paymentsConfig } from "./config.ts";
import { PAYMENTS_ERRORS } from "./errors.ts";
import { paymentStarter } from "./payments.ts";
import { pollPayments } from "./polling.ts";
import { startMockPaymentsDevService } from "./providers/devService.ts";
import { providerRegistry } from "./providers/index.ts";
import { paymentImplementations } from "./routes.ts";
import { webhookBodyReader, webhookReceiver } from "./webhook.ts";

/** The worker tasks; they read the worker's configuration (the task context). */
export function paymentTasks(fixed?: PaymentsConfig) {
  let registry: { settings: PaymentsConfig; providers: ReturnType<typeof providerRegistry> } | undefined;
  const resolve = (context: TaskContext) => {
    if (!fixed && !context.config) throw new Error("payments: the worker was started without its configuration");
    const settings = fixed ?? paymentsConfig.of(context.config!);
    // One provider (and the platform's session) per configuration, not one per job.
    if (registry?.settings !== settings) registry = { settings, providers: providerRegistry(settings) };
    return registry;
  };
  return {
    poll_payments: pollPayments(resolve),
    push_bot_event: pushBotEvent((context) => resolve(context).settings.webhookKey),
  };
}

export const payments: ModuleManifest = {
  name: "payments",
  config: paymentsConfig,
  errors: PAYMENTS_ERRORS,
  api: PAYMENTS_API,
  tasks: paymentTasks(),
  devService: startMockPaymentsDevService,
  crontab: ["* * * * * poll_payments ?id=poll_payments&max=1"],
  server({ config, ownerPool, requestPool, database, logger }) {
    const settings = paymentsConfig.of(config);
    const asBot = botRunner(requestPool, database.botRole, config.graphql.statementTimeoutMs);
    const providers = providerRegistry(settings);
    const starter = paymentStarter(asBot, ownerPool, () => providers(settings.provider), logger);
    const receive = webhookReceiver(ownerPool, settings.webhookKey, logger);
    return {
      streamingRoutes: [webhookBodyReader()],
      implementations: () =>
        paymentImplementations(asBot, starter, receive, settings.webhookKey, async (url) =>
          // In stage and prod a bot's webhook may not point into the server's own network.
          config.isProduction ? privateTargetProblem(url) : null,
        ),
    };
  },
};
