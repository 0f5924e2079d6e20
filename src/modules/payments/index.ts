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
import { MockProvider, type PaymentProvider, PlatformProvider, ProviderError } from "./providers/index.ts";
import { paymentImplementations } from "./routes.ts";
import { webhookBodyReader, webhookReceiver } from "./webhook.ts";

/** The provider of a name, when it is configured (payments keep the provider they started with). */
export function providerRegistry(settings: PaymentsConfig): (name: "mock" | "platform") => PaymentProvider | undefined {
  const made = new Map<string, PaymentProvider>();
  return (name) => {
    let provider = made.get(name);
    if (!provider) {
      if (name === "mock" && settings.mockUrl) provider = new MockProvider(settings.mockUrl);
      if (name === "platform" && settings.platform) provider = new PlatformProvider(settings.platform);
      if (provider) made.set(name, provider);
    }
    return provider;
  };
}

/**
 * The worker tasks. They read the worker's configuration (the task context), or, in a worker
 * started without one, the environment.
 */
export function paymentTasks(fixed?: PaymentsConfig) {
  let registry: { settings: PaymentsConfig; providers: ReturnType<typeof providerRegistry> } | undefined;
  let fromEnvironment: PaymentsConfig | undefined;
  const resolve = (context: TaskContext) => {
    const settings =
      fixed ??
      (context.config ? paymentsConfig.of(context.config) : (fromEnvironment ??= paymentsConfig.fromEnvironment()));
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
    const provider = () => {
      const chosen = providers(settings.provider);
      if (!chosen) throw new ProviderError(`the ${settings.provider} payment provider is not configured`);
      return chosen;
    };
    const starter = paymentStarter(asBot, ownerPool, provider, logger);
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
