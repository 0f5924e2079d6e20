/**
 * `npm start` in development starts the mock payment provider beside the API: the payments
 * manifest's devService starts it on a free port, the API's configuration names it, and its
 * webhooks go to the API that startAll starts.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { MODULES } from "../../src/modules/index.ts";
import { paymentsConfig } from "../../src/modules/payments/config.ts";
import { startMockPaymentsDevService } from "../../src/modules/payments/providers/devService.ts";
import { MockProvider } from "../../src/modules/payments/providers/mock.ts";
import { startAll } from "../../src/platform/app.ts";
import { loadConfig } from "../../src/platform/config.ts";
import { newWebhookSecret } from "../../src/platform/http/standardWebhooks.ts";
import { createLogger } from "../../src/platform/logger.ts";
import type { ModuleManifest } from "../../src/platform/modules.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { TEST_JWT_SECRET } from "../helpers/fixtures.ts";
import { freePort } from "../helpers/process.ts";

const logger = createLogger("silent");
const secret = newWebhookSecret();
const load = (env: Record<string, string> = {}) =>
  loadConfig({ APP_ENV: "test", JWT_SECRET: TEST_JWT_SECRET, PAYMENT_WEBHOOK_SECRET: secret, ...env }, [
    { config: paymentsConfig },
  ]);

test("nothing is started when a mock URL is configured or the provider is the platform", async () => {
  const apiUrl = "http://127.0.0.1:1";
  const configured = load({ MOCK_PAYMENTS_PROVIDER_URL: "http://127.0.0.1:8091" });
  expect(await startMockPaymentsDevService({ config: configured, logger, apiUrl })).toBeUndefined();
  const platform = load({
    PAYMENT_PROVIDER: "platform",
    PLATFORM_PAYMENT_SYSTEM_BASE_URL: "http://127.0.0.1:2",
    PLATFORM_PAYMENT_SYSTEM_LOGIN: "shop",
    PLATFORM_PAYMENT_SYSTEM_PASSWORD: "pw",
    PLATFORM_PAYMENT_SYSTEM_2FA_KEY: "JBSWY3DPEHPK3PXPJBSWY3DP",
  });
  expect(await startMockPaymentsDevService({ config: platform, logger, apiUrl })).toBeUndefined();
});

test("the started mock is the configuration's mock URL and posts signed webhooks to the API", async () => {
  const received: Array<{ url: string; headers: IncomingHttpHeaders; body: string }> = [];
  const api = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    req.on("end", () => {
      received.push({ url: req.url ?? "", headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
  const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  const config = load();
  const service = await startMockPaymentsDevService({ config, logger, apiUrl });
  try {
    expect(service).toBeDefined();
    const mockUrl = paymentsConfig.of(service!.config!).mockUrl;
    expect(mockUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(paymentsConfig.of(config).mockUrl).toBeUndefined(); // the original is left as it was
    expect(service!.banner?.join("\n")).toContain(mockUrl);
    const invoice = await new MockProvider(mockUrl!).createInvoice({
      paymentId: "p-1",
      amount: "5.00",
      currency: "USD",
      description: "Tea",
    });
    const paid = await fetch(`${mockUrl}/invoices/${invoice.providerPaymentId}/pay`, {
      method: "POST",
      headers: { accept: "application/json" },
    });
    expect(await paid.json()).toMatchObject({ status: "succeeded", webhook: { status: 204 } });
    expect(received).toHaveLength(1);
    expect(received[0]!.url).toBe("/api/webhook/payments/mock");
    const headers = received[0]!.headers as Record<string, string>;
    expect(new Webhook(secret).verify(received[0]!.body, headers)).toMatchObject({ type: "payment.succeeded" });
  } finally {
    await service?.stop();
    await new Promise<void>((resolve) => api.close(() => resolve()));
  }
});

describe("startAll with devServices", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  test("the API runs with the mock's URL, the mock posts to the API, and stop() closes the mock", async () => {
    let seen: string | undefined;
    // Stands for the payments manifest's `devService` line (and reads the configuration its server gets).
    const probe: ModuleManifest = {
      name: "payments-probe",
      config: paymentsConfig,
      devService: startMockPaymentsDevService,
      server: (context) => {
        seen = paymentsConfig.of(context.config).mockUrl;
        return {};
      },
    };
    const modules = [...MODULES, probe];
    const port = await freePort();
    const config = loadConfig(
      {
        APP_ENV: "test",
        JWT_SECRET: TEST_JWT_SECRET,
        PAYMENT_WEBHOOK_SECRET: secret,
        PORT: String(port),
        DATABASE_URL: db.urls.ownerUrl,
        DATABASE_AUTHENTICATOR_URL: db.urls.authenticatorUrl,
      },
      modules,
    );
    const app = await startAll({
      config,
      logger,
      modules,
      migrate: false,
      seed: false,
      worker: false,
      devServices: true,
    });
    let stopped = false;
    try {
      expect(seen).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(app.banner).toContain(`Payments  mock provider ${seen}`);
      const invoice = await new MockProvider(seen!).createInvoice({
        paymentId: "p-2",
        amount: "1.00",
        currency: "USD",
        description: "x",
      });
      const paid = await fetch(`${seen}/invoices/${invoice.providerPaymentId}/pay`, {
        method: "POST",
        headers: { accept: "application/json" },
      });
      // The API answered the webhook (whatever its route says): it went to the started API.
      const answer = (await paid.json()) as { webhook: { status: number | null; error?: string } };
      expect(answer.webhook.error).toBeUndefined();
      expect(answer.webhook.status).toEqual(expect.any(Number));
      await app.stop();
      stopped = true;
      await expect(fetch(`${seen}/invoices/${invoice.providerPaymentId}`)).rejects.toThrow();
    } finally {
      if (!stopped) await app.stop();
    }
  });
});
