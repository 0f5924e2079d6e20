/**
 * `npm start` in development without MOCK_PAYMENTS_PROVIDER_URL: the mock provider, started in the
 * same process on a free port of 127.0.0.1, posting its webhooks to the API being started
 * (/api/webhook/payments/mock) signed with PAYMENT_WEBHOOK_SECRET; the API and the worker use it
 * as their mock provider. The manifest declares it as `devService`.
 */
import type { ConfigFragment } from "../../../platform/config.ts";
import type { DevService, DevServiceContext } from "../../../platform/modules.ts";
import { type PaymentsConfig, paymentsConfig } from "../config.ts";
import { startMockPaymentsProvider } from "./mockServer.ts";

export async function startMockPaymentsDevService(context: DevServiceContext): Promise<DevService | undefined> {
  const { config, logger } = context;
  if (config.isProduction) return undefined;
  const settings = paymentsConfig.of(config);
  if (settings.provider !== "mock" || settings.mockUrl) return undefined;
  const webhookUrl = `${context.apiUrl}/api/webhook/payments/mock`;
  const mock = await startMockPaymentsProvider({
    host: "127.0.0.1",
    port: 0,
    webhookSecret: settings.webhookSecret,
    webhookUrl,
    onWebhook: (delivery) =>
      delivery.status !== null && delivery.status < 300
        ? logger.info({ mockPayments: delivery }, "mock payment provider: webhook delivered")
        : logger.warn({ mockPayments: delivery }, "mock payment provider: webhook not accepted"),
  });
  logger.info({ url: mock.url, webhookUrl }, "mock payment provider started");
  const withMock: PaymentsConfig = { ...settings, mockUrl: mock.url };
  const fragments = new Map(config.fragments);
  fragments.set(paymentsConfig as ConfigFragment<unknown>, withMock);
  return {
    config: { ...config, fragments },
    banner: [`Payments  mock provider ${mock.url} (webhooks to ${webhookUrl})`],
    stop: () => mock.close(),
  };
}
