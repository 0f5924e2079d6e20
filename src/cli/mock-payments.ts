/**
 * `npm run mock:payments`: the mock payment provider on its own (127.0.0.1:MOCK_PAYMENTS_PORT,
 * default 8091), posting its webhooks to MOCK_PAYMENTS_WEBHOOK_URL (default the API's
 * /api/webhook/payments/mock on PORT) signed with PAYMENT_WEBHOOK_SECRET (development's default
 * outside stage and prod). Point the API at it with MOCK_PAYMENTS_PROVIDER_URL.
 */
import { refuseArguments } from "./boot.ts";
import { DEV_PAYMENT_WEBHOOK_SECRET } from "../modules/payments/config.ts";
import { startMockPaymentsProvider } from "../modules/payments/providers/mockServer.ts";
import { isHardenedEnv } from "../platform/hardening.ts";
import { webhookKey } from "../platform/http/standardWebhooks.ts";
import { createLogger } from "../platform/logger.ts";
import { listenRefusal } from "../platform/system.ts";

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

refuseArguments();

const env = process.env;
const logger = createLogger(env.LOG_LEVEL ?? "info", "mock-payments", undefined, process.stdout.isTTY === true);
const port = Number(env.MOCK_PAYMENTS_PORT ?? 8091);
if (!Number.isInteger(port) || port < 0 || port > 65_535) fail("MOCK_PAYMENTS_PORT: must be a port number");
const secret =
  env.PAYMENT_WEBHOOK_SECRET ||
  (isHardenedEnv(env.APP_ENV ?? "dev")
    ? fail(`PAYMENT_WEBHOOK_SECRET: is required when APP_ENV=${env.APP_ENV}`)
    : DEV_PAYMENT_WEBHOOK_SECRET);
try {
  webhookKey(secret);
} catch (error) {
  fail(`PAYMENT_WEBHOOK_SECRET: ${(error as Error).message}`);
}
const webhookUrl = env.MOCK_PAYMENTS_WEBHOOK_URL || `http://127.0.0.1:${env.PORT || 8080}/api/webhook/payments/mock`;
if (!/^https?:$/.test(URL.parse(webhookUrl)?.protocol ?? "")) fail("MOCK_PAYMENTS_WEBHOOK_URL: must be an http(s) URL");

const mock = await startMockPaymentsProvider({
  host: "127.0.0.1",
  port,
  webhookSecret: secret,
  webhookUrl,
  onWebhook: (delivery) =>
    delivery.status !== null && delivery.status < 300
      ? logger.info(delivery, "webhook delivered")
      : logger.warn(delivery, "webhook not accepted"),
}).catch((error: unknown) => fail(listenRefusal("MOCK_PAYMENTS_PORT", port, error)));
logger.info({ url: mock.url, webhookUrl }, "mock payment provider listening");
process.stdout.write(`Mock payment provider on ${mock.url} (MOCK_PAYMENTS_PROVIDER_URL=${mock.url})\n`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    mock.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
