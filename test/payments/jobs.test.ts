/**
 * The payments jobs, run through graphile-worker: the polling job settles a payment whose webhook
 * never came and expires an abandoned one (its stock goes back); bot events are pushed to the bot's
 * webhook signed the Standard Webhooks way (checked with the `standardwebhooks` package), retried
 * after a failure, every attempt logged.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { TaskList } from "graphile-worker";
import { Webhook } from "standardwebhooks";
import { loadConfig } from "../../src/modules/index.ts";
import { paymentsConfig } from "../../src/modules/payments/config.ts";
import type { MockPaymentsProvider } from "../../src/modules/payments/providers/mockServer.ts";
import { type bot, createProduct, type TestStore } from "../commerce/store.ts";
import type { TestApp } from "../helpers/app.ts";
import { problemsOf } from "../helpers/config.ts";
import { runDueJobs } from "../helpers/jobs.ts";
import { paymentsTaskList, type Shop, startShop } from "./shop.ts";

let shop: Shop;
let app: TestApp;
let mock: MockPaymentsProvider;
let store: TestStore;
let api: ReturnType<typeof bot>;
let tasks: TaskList;

beforeAll(async () => {
  const env = { PAYMENT_NOTIFICATION_MINUTES: "15", PAYMENT_EXPIRY_MINUTES: "60" };
  shop = await startShop(env);
  ({ app, mock, store, api } = shop);
  // The tasks with the server's own settings (its mock provider's URL, the minutes above).
  tasks = paymentsTaskList(paymentsConfig.of(app.config));
});
afterAll(() => shop.stop());

let nextTelegramId = 100;
async function startOrderPayment(stock: number, quantity: number) {
  const telegramId = nextTelegramId++;
  await api.post("/api/bot/customers", { telegramId });
  const productId = await createProduct(app, store.admin, { name: `P${telegramId}`, price: "6.00", stock });
  const order = await api.post("/api/bot/orders", { telegramId, items: [{ productId, quantity }] });
  const started = await api.post(`/api/bot/orders/${order.body.id}/pay`, { method: "provider" });
  expect(started.status).toBe(201);
  return { productId, orderId: order.body.id as string, payment: started.body.payment, telegramId };
}

/** Makes a payment look `minutes` old (the polling job works on payments older than its settings). */
const age = (paymentId: string, minutes: number) =>
  app.db.ownerPool.query(
    "update app_public.payments set created_at = now() - make_interval(mins => $2), checked_at = null where id = $1",
    [paymentId, minutes],
  );

async function poll() {
  await app.db.ownerPool.query("select graphile_worker.add_job('poll_payments', '{}'::json)");
  await runDueJobs(app.db.ownerPool, { poll_payments: tasks.poll_payments! });
}

const statusOf = async (paymentId: string) =>
  (await api.get(`/api/bot/payments/${paymentId}`)).body.payment.status as string;
const stockOf = async (productId: string) =>
  (await app.db.ownerPool.query("select stock from app_public.products where id = $1", [productId])).rows[0].stock;

test("a lost webhook is made up by polling; an abandoned payment expires, its stock back", async () => {
  const settled = await startOrderPayment(5, 1);
  const abandoned = await startOrderPayment(3, 3);
  const young = await startOrderPayment(2, 1);
  // Paid at the provider, but the webhook is lost.
  await fetch(`${mock.url}/invoices/${settled.payment.providerPaymentId}/pay?webhook=0`, {
    method: "POST",
    headers: { accept: "application/json" },
  });
  await age(settled.payment.id, 20);
  await age(abandoned.payment.id, 20);
  await poll();
  expect(await statusOf(settled.payment.id)).toBe("succeeded");
  expect((await api.get(`/api/bot/orders/${settled.orderId}`)).body.status).toBe("paid");
  expect(await statusOf(abandoned.payment.id)).toBe("pending"); // still within its hour
  expect(await statusOf(young.payment.id)).toBe("pending");
  expect(await stockOf(abandoned.productId)).toBe(0);

  await age(abandoned.payment.id, 61);
  await poll();
  expect(await statusOf(abandoned.payment.id)).toBe("expired");
  expect(await stockOf(abandoned.productId)).toBe(3);
  expect((await api.get(`/api/bot/orders/${abandoned.orderId}`)).body.status).toBe("pending");
  expect(await statusOf(young.payment.id)).toBe("pending");

  // The customer pays after all: the money is not lost, it lands on the balance (the stock went back).
  await fetch(`${mock.url}/invoices/${abandoned.payment.providerPaymentId}/pay`, {
    method: "POST",
    headers: { accept: "application/json" },
  });
  expect(await statusOf(abandoned.payment.id)).toBe("succeeded");
  expect((await api.get(`/api/bot/customers/${abandoned.telegramId}/balance`)).body.balance).toBe("18.00");
  expect((await api.get(`/api/bot/orders/${abandoned.orderId}`)).body.status).toBe("pending");
  const types = (await api.get("/api/bot/events")).body.items
    .filter((item: { data: { paymentId: string } }) => item.data.paymentId === abandoned.payment.id)
    .map((item: { type: string; data: { orderPaid?: boolean } }) => [item.type, item.data.orderPaid ?? null]);
  expect(types).toEqual([
    ["payment.expired", null],
    ["payment.succeeded", false],
  ]);
});

test("payments whose settling is refused do not fill every poll: the least recently asked go first", async () => {
  // Paid at the provider, webhooks lost; two are refused when settled (their amount no longer the
  // provider's), so they stay pending for an operator and are asked about every run.
  const paidWithoutWebhook = async () => {
    const started = await startOrderPayment(5, 1);
    await fetch(`${mock.url}/invoices/${started.payment.providerPaymentId}/pay?webhook=0`, {
      method: "POST",
      headers: { accept: "application/json" },
    });
    return started;
  };
  const refused = [await paidWithoutWebhook(), await paidWithoutWebhook()];
  const lost = await paidWithoutWebhook();
  for (const { payment } of refused) {
    await app.db.ownerPool.query("update app_public.payments set amount = amount + 1 where id = $1", [payment.id]);
    await age(payment.id, 30);
  }
  await age(lost.payment.id, 20);
  const others = [...refused, lost].map(({ payment }) => payment.id);
  await app.db.ownerPool.query(
    "update app_public.payments set created_at = now() where status = 'pending' and not id = any($1::uuid[])",
    [others],
  );
  const pollTwo = paymentsTaskList({ ...paymentsConfig.of(app.config), pollBatch: 2 }).poll_payments!;
  const pollOnce = async () => {
    await app.db.ownerPool.query("select graphile_worker.add_job('poll_payments', '{}'::json)");
    await runDueJobs(app.db.ownerPool, { poll_payments: pollTwo });
  };
  await pollOnce(); // the two refused, the oldest never asked
  expect(await statusOf(lost.payment.id)).toBe("pending");
  // A minute later: everyone may be asked again.
  await app.db.ownerPool.query("update app_public.payments set checked_at = checked_at - interval '1 minute'");
  await pollOnce();
  expect(await statusOf(lost.payment.id)).toBe("succeeded");
  for (const { payment } of refused) expect(await statusOf(payment.id)).toBe("pending");
});

test("PAYMENT_POLL_BATCH is 200 by default, a whole number from 1 to 10000 when set", () => {
  expect(paymentsConfig.of(loadConfig({})).pollBatch).toBe(200);
  expect(paymentsConfig.of(loadConfig({ PAYMENT_POLL_BATCH: "10000" })).pollBatch).toBe(10_000);
  for (const value of ["0", "10001", "2.5", "all"])
    expect(problemsOf({ PAYMENT_POLL_BATCH: value })).toEqual([expect.stringMatching(/^PAYMENT_POLL_BATCH: /)]);
});

test("bot events are pushed to the bot's webhook, signed; a failed push is retried, each attempt logged", async () => {
  const received: Array<{ body: string; headers: IncomingMessage["headers"] }> = [];
  let failuresLeft = 1;
  const receiver: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (failuresLeft-- > 0) return void res.writeHead(500).end();
      received.push({ body: Buffer.concat(chunks).toString("utf8"), headers: req.headers });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  try {
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const set = await request("put", "/api/bot/webhook", { url });
    expect(set.status).toBe(200);
    expect(set.body.url).toBe(url);
    expect(set.body.secret).toMatch(/^whsec_/);
    // Each refusal says what is wrong with the URL.
    for (const [wrong, reason] of [
      ["ftp://example.test", "must be an http(s) URL"],
      ["not a url", "must be an http(s) URL"],
      ["http://user:secret@example.test/hook", "must be a URL without user or password"],
      ["https://example.test:99999/hook", "must be a URL this server can call (host and port)"],
      ["https://example.test:0/hook", "must be a URL this server can call (host and port)"],
      ["https://exa\u202emple.test/hook", "must be a URL this server can call (host and port)"],
      // A host the URL standard maps to nothing, or with an empty label, names no one.
      ...["https://\u00ad.test/", "https://a..test/", "https://.a.test/"].map((wrong) => [
        wrong,
        "must be a URL this server can call (host and port)",
      ]),
      // Dropped by the URL parser, they would have been stored as another URL than the one sent.
      ...[
        "https://example.test/\u0000",
        "\u0001https://example.test/",
        "https://exam\tple.test/",
        "https://a.test/\u007f",
      ].map((wrong) => [wrong, "must not contain control characters"]),
    ]) {
      const refused = await request("put", "/api/bot/webhook", { url: wrong });
      expect([wrong, refused.status, refused.body.error?.details?.fields]).toEqual([wrong, 400, { url: reason }]);
    }
    // A scheme in capitals is still http(s), kept as the URL standard writes it.
    const capitals = await request("put", "/api/bot/webhook", { url: url.replace("http://", "HTTP://") });
    expect([capitals.status, capitals.body.url]).toEqual([200, url]);
    expect((await request("put", "/api/bot/webhook", { url })).status).toBe(200);

    const { payment } = await startOrderPayment(1, 1);
    await fetch(`${mock.url}/invoices/${payment.providerPaymentId}/pay`, {
      method: "POST",
      headers: { accept: "application/json" },
    });
    const push = { push_bot_event: tasks.push_bot_event! };
    await runDueJobs(app.db.ownerPool, push); // the receiver answers 500: the job fails, to be retried
    expect(received).toHaveLength(0);
    await app.db.ownerPool.query("update graphile_worker._private_jobs set run_at = now() where attempts > 0");
    await runDueJobs(app.db.ownerPool, push);
    expect(received).toHaveLength(1);
    const delivery = received[0]!;
    const verified = new Webhook(set.body.secret).verify(delivery.body, {
      "webhook-id": String(delivery.headers["webhook-id"]),
      "webhook-timestamp": String(delivery.headers["webhook-timestamp"]),
      "webhook-signature": String(delivery.headers["webhook-signature"]),
    });
    expect(verified).toMatchObject({ type: "payment.succeeded", data: { paymentId: payment.id, orderPaid: true } });
    const attempts = await app.db.ownerPool.query(
      `select d.attempt, d.status, d.delivered from app_private.bot_event_deliveries d
       join app_public.bot_events e on e.id = d.event_id where e.payload ->> 'paymentId' = $1 order by d.id`,
      [payment.id],
    );
    expect(attempts.rows).toEqual([
      { attempt: 1, status: 500, delivered: false },
      { attempt: 2, status: 204, delivered: true },
    ]);
    // Without a URL nothing more is pushed.
    expect((await request("put", "/api/bot/webhook", { url: null })).body).toEqual({ url: null, secret: null });
  } finally {
    await new Promise((resolve) => receiver.close(resolve));
  }
});

function request(method: "put", path: string, body: object) {
  return fetch(`${app.url}${path}`, {
    method: method.toUpperCase(),
    headers: { "content-type": "application/json", "x-api-key": store.apiKey, "x-bot-id": store.botId },
    body: JSON.stringify(body),
    // biome-ignore lint/suspicious/noExplicitAny: the test reads the answer's fields by name
  }).then(async (response) => ({ status: response.status, body: (await response.json()) as any }));
}

test("the events feed pages in id order past ten events: each event exactly once", async () => {
  const other = await startOrderPayment(1, 1); // a customer of this store for the events to name
  const recorded = await app.db.ownerPool.query<{ id: string }>(
    `select app_private.record_bot_event(tenant_id, bot_id, 'payment.failed', jsonb_build_object('n', n))::text as id
     from app_public.payments, generate_series(1, 12) n where id = $1`,
    [other.payment.id],
  );
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 20; page++) {
    const answer = await api.get(`/api/bot/events?limit=5${cursor ? `&cursor=${cursor}` : ""}`);
    expect(answer.status).toBe(200);
    if (answer.body.items.length === 0) break;
    seen.push(...answer.body.items.map((item: { id: string }) => item.id));
    cursor = answer.body.nextCursor;
  }
  expect(seen.map(Number)).toEqual([...seen.map(Number)].sort((x, y) => x - y));
  expect(new Set(seen).size).toBe(seen.length);
  expect(seen).toEqual(expect.arrayContaining(recorded.rows.map((row) => row.id)));
});

test("the events feed reads its page size as digits: 0x10, 1e1, 101 are refused, not read as 16, 10, 100", async () => {
  for (const limit of ["0x10", "1e1", "101", "0", "-5", "1.5", ""]) {
    const answer = await api.get(`/api/bot/events?limit=${encodeURIComponent(limit)}`);
    expect({ limit, status: answer.status, code: answer.body.error?.code, field: answer.body.error?.details }).toEqual({
      limit,
      status: 400,
      code: "VALIDATION_FAILED",
      field: expect.objectContaining({ fields: { limit: "must be a whole number from 1 to 100" } }),
    });
  }
  const page = await api.get("/api/bot/events?limit=16");
  expect(page.status).toBe(200);
});
