/**
 * The payment providers against real HTTP servers: the mock provider's server (invoices, the page,
 * pay/fail with one signed webhook, checked with the reference Standard Webhooks library) and its
 * client; the platform provider against a fake platform that checks logins and TOTP codes itself.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import type { PaymentsConfig } from "../../src/modules/payments/config.ts";
import { makePaymentProvider } from "../../src/modules/payments/providers/index.ts";
import { MockProvider } from "../../src/modules/payments/providers/mock.ts";
import {
  type MockPaymentsProvider,
  startMockPaymentsProvider,
} from "../../src/modules/payments/providers/mockServer.ts";
import { PlatformProvider } from "../../src/modules/payments/providers/platform.ts";
import { ProviderError, ProviderRefusal } from "../../src/modules/payments/providers/provider.ts";
import { newWebhookSecret } from "../../src/platform/http/standardWebhooks.ts";
import { type FakePlatform, randomBase32Secret, startFakePlatform, totpAt } from "../helpers/platformPayments.ts";
import { until } from "../helpers/wait.ts";

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver: records every delivery and answers `status`. */
async function startReceiver(status = 204): Promise<{ url: string; received: Received[]; stop(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/webhook/payments/mock`,
    received,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function verified(secret: string, delivery: Received): unknown {
  const headers = {
    "webhook-id": String(delivery.headers["webhook-id"]),
    "webhook-timestamp": String(delivery.headers["webhook-timestamp"]),
    "webhook-signature": String(delivery.headers["webhook-signature"]),
  };
  return new Webhook(secret).verify(delivery.body, headers);
}

describe("mock provider server", () => {
  const secret = newWebhookSecret();
  let mock: MockPaymentsProvider;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    receiver = await startReceiver();
    mock = await startMockPaymentsProvider({ webhookSecret: secret, webhookUrl: receiver.url });
  });
  afterAll(async () => {
    await mock.close();
    await receiver.stop();
  });

  async function create(body: unknown): Promise<Response> {
    return fetch(`${mock.url}/invoices`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  }
  async function newInvoice(description = "Order"): Promise<{ id: string; url: string }> {
    const response = await create({ amount: "12.50", currency: "USD", description, reference: "pay-1" });
    expect(response.status).toBe(201);
    return (await response.json()) as { id: string; url: string };
  }
  const post = (path: string, accept = "application/json") =>
    fetch(`${mock.url}${path}`, { method: "POST", headers: { accept } });

  test("POST /invoices → 201 pending, GET /invoices/{id} reads it back, unknown → 404", async () => {
    const response = await create({ amount: "12.50", currency: "USD", description: "Mug", reference: "ref-7" });
    expect(response.status).toBe(201);
    const invoice = (await response.json()) as Record<string, string>;
    expect(invoice).toEqual({
      id: expect.stringMatching(/^inv_/),
      url: `${mock.url}/invoices/${invoice.id}/page`,
      status: "pending",
      amount: "12.50",
      currency: "USD",
    });
    const read = await fetch(`${mock.url}/invoices/${invoice.id}`);
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual({
      id: invoice.id,
      status: "pending",
      amount: "12.50",
      currency: "USD",
      reference: "ref-7",
    });
    expect((await fetch(`${mock.url}/invoices/inv_nope`)).status).toBe(404);
    expect((await post("/invoices/inv_nope/pay")).status).toBe(404);
  });

  test("bad input → 400 {error}", async () => {
    const good = { amount: "12.50", currency: "USD", description: "x", reference: "r" };
    const bad: unknown[] = [
      { ...good, amount: "12.505" },
      { ...good, amount: "0" },
      { ...good, amount: "0.00" },
      { ...good, amount: "-1" },
      { ...good, amount: 12.5 },
      { ...good, amount: "1e3" },
      { ...good, currency: "usd" },
      { ...good, description: 3 },
      { ...good, reference: "" },
      { amount: "1.00", currency: "USD", description: "x" },
      [good],
      "not an object",
    ];
    for (const body of bad) {
      const response = await create(body);
      expect([body, response.status]).toEqual([body, 400]);
      expect(await response.json()).toEqual({ error: expect.any(String) });
    }
    const notJson = await fetch(`${mock.url}/invoices`, { method: "POST", body: "{" });
    expect(notJson.status).toBe(400);
  });

  test("the page shows the amount and the escaped description, with Pay and Fail forms", async () => {
    const invoice = await newInvoice('<script>alert("x")</script> & co');
    const page = await fetch(invoice.url);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain("12.50 USD");
    expect(html).not.toContain("<script>");
    expect(html).toContain("&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; co");
    expect(html).toContain(`<form method="post" action="/invoices/${invoice.id}/pay">`);
    expect(html).toContain(`<form method="post" action="/invoices/${invoice.id}/fail">`);
  });

  test("pay: succeeded, one webhook payment.succeeded signed with the secret; a second pay → 409", async () => {
    const invoice = await newInvoice();
    const before = receiver.received.length;
    const paid = await post(`/invoices/${invoice.id}/pay`);
    expect(paid.status).toBe(200);
    expect(await paid.json()).toEqual({ id: invoice.id, status: "succeeded", webhook: { status: 204 } });
    expect(receiver.received.length).toBe(before + 1);
    const delivery = receiver.received[before]!;
    expect(delivery.headers["content-type"]).toBe("application/json");
    expect(delivery.headers["webhook-id"]).toMatch(/^msg_/);
    expect(verified(secret, delivery)).toEqual({
      type: "payment.succeeded",
      data: { providerPaymentId: invoice.id, amount: "12.50", currency: "USD" },
    });
    // Another secret does not verify it.
    expect(() => verified(newWebhookSecret(), delivery)).toThrow();
    expect(await fetch(`${mock.url}/invoices/${invoice.id}`).then((r) => r.json())).toMatchObject({
      status: "succeeded",
    });

    const again = await post(`/invoices/${invoice.id}/pay`);
    expect(again.status).toBe(409);
    expect(await again.json()).toEqual({ error: expect.any(String) });
    expect((await post(`/invoices/${invoice.id}/fail`)).status).toBe(409);
    expect(receiver.received.length).toBe(before + 1);
  });

  test("fail from the page's form (HTML): failed, webhook payment.failed, a fresh webhook-id each time", async () => {
    const first = await newInvoice();
    const second = await newInvoice();
    const before = receiver.received.length;
    const answer = await post(`/invoices/${first.id}/fail`, "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8");
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await answer.text()).toContain("failed");
    await post(`/invoices/${second.id}/fail`);
    expect(receiver.received.length).toBe(before + 2);
    const [a, b] = receiver.received.slice(before);
    expect(verified(secret, a!)).toEqual({
      type: "payment.failed",
      data: { providerPaymentId: first.id, amount: "12.50", currency: "USD" },
    });
    expect(a!.headers["webhook-id"]).not.toBe(b!.headers["webhook-id"]);
    expect(mock.invoices.get(first.id)?.status).toBe("failed");
  });

  test("?webhook=0 changes the status without a webhook", async () => {
    const invoice = await newInvoice();
    const before = receiver.received.length;
    const paid = await post(`/invoices/${invoice.id}/pay?webhook=0`);
    expect(paid.status).toBe(200);
    expect(await paid.json()).toMatchObject({ status: "succeeded", webhook: { status: null } });
    expect(mock.invoices.get(invoice.id)?.status).toBe("succeeded");
    expect(receiver.received.length).toBe(before);
  });

  test("a webhook that cannot be delivered (or is refused) does not undo the payment", async () => {
    const refusing = await startReceiver(500);
    try {
      mock.setWebhookUrl(refusing.url);
      const refused = await newInvoice();
      expect(await post(`/invoices/${refused.id}/pay`).then((r) => r.json())).toMatchObject({
        status: "succeeded",
        webhook: { status: 500 },
      });
      expect(refusing.received.length).toBe(1);
    } finally {
      await refusing.stop();
    }
    mock.setWebhookUrl(refusing.url); // nobody listens there any more
    const lost = await newInvoice();
    const answer = (await post(`/invoices/${lost.id}/pay`).then((r) => r.json())) as Record<string, unknown>;
    expect(answer).toMatchObject({ status: "succeeded", webhook: { status: null, error: expect.any(String) } });
    expect(mock.invoices.get(lost.id)?.status).toBe("succeeded");
    mock.setWebhookUrl(receiver.url);
  });

  test("MockProvider: createInvoice and fetchInvoice through the HTTP API", async () => {
    const provider = new MockProvider(`${mock.url}/`);
    expect(provider.name).toBe("mock");
    const invoice = await provider.createInvoice({
      paymentId: "0190a1b2-0000-7000-8000-000000000001",
      amount: "3.99",
      currency: "EUR",
      description: "Tea",
    });
    expect(invoice.paymentUrl).toBe(`${mock.url}/invoices/${invoice.providerPaymentId}/page`);
    expect(mock.invoices.get(invoice.providerPaymentId)?.reference).toBe("0190a1b2-0000-7000-8000-000000000001");
    expect(await provider.fetchInvoice(invoice.providerPaymentId)).toEqual({
      status: "pending",
      amount: "3.99",
      currency: "EUR",
    });
    await post(`/invoices/${invoice.providerPaymentId}/fail?webhook=0`);
    expect((await provider.fetchInvoice(invoice.providerPaymentId)).status).toBe("failed");
    // Unknown invoice: ProviderError (a 404 may be our own wrong address); refused input: a
    // ProviderRefusal, which nobody should retry.
    const unknown = await provider.fetchInvoice("inv_unknown").catch((error: unknown) => error);
    expect([unknown instanceof ProviderError, unknown instanceof ProviderRefusal]).toEqual([true, false]);
    const refused = provider.createInvoice({ paymentId: "p", amount: "1.001", currency: "EUR", description: "x" });
    await expect(refused).rejects.toThrow(/HTTP 400/);
    await expect(refused).rejects.toBeInstanceOf(ProviderRefusal);
  });
});

describe("MockProvider when the provider misbehaves", () => {
  let server: Server;
  let base: string;
  let answer: (res: import("node:http").ServerResponse) => void = (res) => res.end();

  beforeAll(async () => {
    server = createServer((_req, res) => answer(res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test("an unexpected body, a 500, a timeout and a closed port are ProviderErrors", async () => {
    const provider = new MockProvider(base, { timeoutMs: 300 });
    answer = (res) => res.writeHead(200, { "content-type": "application/json" }).end('{"id":1}');
    await expect(provider.fetchInvoice("inv_1")).rejects.toThrow(/unexpected body/);
    answer = (res) => res.writeHead(500).end("boom");
    await expect(provider.fetchInvoice("inv_1")).rejects.toThrow(/HTTP 500/);
    let pending = 0;
    answer = () => void pending++; // never answers
    await expect(provider.fetchInvoice("inv_1")).rejects.toThrow(/timed out/);
    await until(() => pending === 1, "the request to reach the server");
    server.closeAllConnections();
    const closed = new MockProvider("http://127.0.0.1:9");
    const error = await closed.fetchInvoice("inv_1").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
  });

  test("a payment link that is not http(s) is an unexpected body, never passed on to a customer", async () => {
    const provider = new MockProvider(base, { timeoutMs: 1000 });
    for (const url of ["javascript:alert(1)", "file:///etc/passwd", "data:text/html,<b>pay</b>"]) {
      answer = (res) =>
        res
          .writeHead(201, { "content-type": "application/json" })
          .end(JSON.stringify({ id: "inv_1", url, status: "pending", amount: "25.00", currency: "USD" }));
      const invoice = { paymentId: "p-1", amount: "25.00", currency: "USD", description: "Order 1" };
      await expect(provider.createInvoice(invoice)).rejects.toThrow(/unexpected body/);
    }
  });
});

describe("platform provider", () => {
  let platform: FakePlatform;
  const request = (paymentId: string) => ({ paymentId, amount: "25.00", currency: "USD", description: "Order 1" });
  const account = () => ({
    baseUrl: platform.baseUrl,
    login: platform.login,
    password: platform.password,
    twoFactorKey: platform.twoFactorKey,
  });

  beforeEach(async () => {
    platform = await startFakePlatform();
  });
  afterEach(() => platform.stop());

  test("the fake's own TOTP matches RFC 6238's test vector", () => {
    // RFC 6238 appendix B, SHA-1, T = 59 s → step 1: 94287082 (8 digits), i.e. 287082 in 6.
    expect(totpAt("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 1)).toBe("287082");
  });

  test("signs in once with login, password and TOTP; creates and reads payments; statuses are mapped", async () => {
    const provider = new PlatformProvider(account());
    expect(provider.name).toBe("platform");
    const invoice = await provider.createInvoice(request("payment-1"));
    expect(invoice.paymentUrl).toBe(`${platform.baseUrl}/pay/${invoice.providerPaymentId}`);
    expect(platform.payments.get(invoice.providerPaymentId)).toMatchObject({
      amount: "25.00",
      currency: "USD",
      description: "Order 1",
      reference: "payment-1",
    });
    expect(await provider.fetchInvoice(invoice.providerPaymentId)).toEqual({
      status: "pending",
      amount: "25.00",
      currency: "USD",
    });
    for (const [theirs, ours] of [
      ["paid", "succeeded"],
      ["failed", "failed"],
      ["cancelled", "failed"],
    ] as const) {
      platform.settle(invoice.providerPaymentId, theirs);
      expect((await provider.fetchInvoice(invoice.providerPaymentId)).status).toBe(ours);
    }
    expect(platform.logins).toEqual({ accepted: 1, refused: 0 });
    await expect(provider.fetchInvoice("pp-unknown")).rejects.toThrow(/HTTP 404/);
  });

  test("a wrong 2FA key (or password) is refused by the platform: ProviderError", async () => {
    const wrongKey = new PlatformProvider({ ...account(), twoFactorKey: randomBase32Secret() });
    const error = await wrongKey.createInvoice(request("payment-2")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as Error).message).toMatch(/login was refused/);
    expect(platform.logins).toEqual({ accepted: 0, refused: 1 });
    const wrongPassword = new PlatformProvider({ ...account(), password: "not-the-password" });
    await expect(wrongPassword.fetchInvoice("pp-1")).rejects.toThrow(ProviderError);
    expect(platform.logins).toEqual({ accepted: 0, refused: 2 });
    expect(platform.payments.size).toBe(0);
  });

  test("after the platform ends the session, the next call signs in again and succeeds", async () => {
    const provider = new PlatformProvider(account());
    const invoice = await provider.createInvoice(request("payment-3"));
    platform.expireSessions();
    expect((await provider.fetchInvoice(invoice.providerPaymentId)).status).toBe("pending");
    expect(platform.logins.accepted).toBe(2);
    expect(platform.calls.map((call) => call.status)).toEqual([201, 401, 200]);
  });

  test("calls that meet an ended session together share one new sign-in", async () => {
    const provider = new PlatformProvider(account());
    const invoice = await provider.createInvoice(request("payment-4"));
    platform.expireSessions();
    const states = await Promise.all(Array.from({ length: 8 }, () => provider.fetchInvoice(invoice.providerPaymentId)));
    expect(states.every((state) => state.status === "pending")).toBe(true);
    expect(platform.logins).toEqual({ accepted: 2, refused: 0 });
  });

  test("a token refused right after a new sign-in is not retried again: ProviderError", async () => {
    const provider = new PlatformProvider(account());
    await provider.createInvoice(request("payment-5"));
    platform.honourTokens(false);
    const error = await provider.fetchInvoice("pp-x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as Error).message).toMatch(/HTTP 401/);
    expect(platform.calls.map((call) => call.status)).toEqual([201, 401, 401]);
    expect(platform.logins.accepted).toBe(2);
  });
});

describe("makePaymentProvider", () => {
  const base: PaymentsConfig = {
    provider: "mock",
    webhookKey: Buffer.alloc(32),
    webhookSecret: newWebhookSecret(),
    notificationMinutes: 15,
    expiryMinutes: 60,
    pollBatch: 200,
  };

  test("mock needs its URL; platform needs its account", () => {
    expect(() => makePaymentProvider(base)).toThrow(/MOCK_PAYMENTS_PROVIDER_URL/);
    expect(makePaymentProvider({ ...base, mockUrl: "http://127.0.0.1:1" }).name).toBe("mock");
    expect(() => makePaymentProvider({ ...base, provider: "platform" })).toThrow(/PLATFORM_PAYMENT_SYSTEM_BASE_URL/);
    const platform = { baseUrl: "http://127.0.0.1:1", login: "l", password: "p", twoFactorKey: randomBase32Secret() };
    expect(makePaymentProvider({ ...base, provider: "platform", platform }).name).toBe("platform");
  });
});
