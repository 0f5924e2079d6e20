/**
 * Payments: money from outside for the bot store. Bots start payments of orders and deposits; a
 * provider (the mock shipped here, or the platform's payment system) issues the invoice; its signed
 * webhook, or the polling job when none comes, settles the payment: status, stock, ledger and
 * referral payout in one transaction; bots hear of it by polling their events or at their webhook.
 */
import type { ModuleManifest } from "../../platform/modules.ts";
import { botRunner } from "../commerce/botAuth.ts";
import { PAYMENTS_API } from "./api.ts";
import { pushBotEvent } from "./botEvents.ts";
import { type PaymentsConfig, paymentsConfig } from "./config.ts";
import { PAYMENTS_ERRORS } from "./errors.ts";
import { paymentStarter } from "./payments.ts";
import { pollPayments } from "./polling.ts";
import { MockProvider } from "./providers/mock.ts";
import { type PaymentProvider, ProviderError } from "./providers/provider.ts";
import { paymentImplementations } from "./routes.ts";
import { webhookBodyReader, webhookReceiver } from "./webhook.ts";

/** The provider of a name, when it is configured (payments keep the provider they started with). */
export function providerRegistry(settings: PaymentsConfig): (name: "mock" | "platform") => PaymentProvider | undefined {
  const made = new Map<string, PaymentProvider>();
  return (name) => {
    let provider = made.get(name);
    if (!provider) {
      if (name === "mock" && settings.mockUrl) provider = new MockProvider(settings.mockUrl);
      if (provider) made.set(name, provider);
    }
    return provider;
  };
}

/** The worker reads its settings from the environment (it has no server configuration). */
let workerSettings: PaymentsConfig | undefined;
const settingsOfWorker = () => (workerSettings ??= paymentsConfig.fromEnvironment());
let workerProviders: ReturnType<typeof providerRegistry> | undefined;

/** The worker tasks, for a given configuration (tests build them with theirs). */
export function paymentTasks(settings: () => PaymentsConfig) {
  const providers = (name: "mock" | "platform") => (workerProviders ??= providerRegistry(settings()))(name);
  return {
    poll_payments: pollPayments(settings, providers),
    push_bot_event: pushBotEvent(() => settings().webhookKey),
  };
}

export const payments: ModuleManifest = {
  name: "payments",
  config: paymentsConfig,
  errors: PAYMENTS_ERRORS,
  api: PAYMENTS_API,
  tasks: paymentTasks(settingsOfWorker),
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
      implementations: () => paymentImplementations(asBot, starter, receive, settings.webhookKey),
    };
  },
};
