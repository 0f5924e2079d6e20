/**
 * Payments against the mock provider (a real HTTP server): a bot starts an order's payment or a
 * deposit, the customer pays on the invoice page, the provider's signed webhook settles it. Webhooks
 * in these tests are signed with the `standardwebhooks` package, not with Tessera's own code.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { Webhook } from "standardwebhooks";
import { DEV_PAYMENT_WEBHOOK_SECRET } from "../../src/modules/payments/config.ts";
import type { MockPaymentsProvider } from "../../src/modules/payments/providers/mockServer.ts";
import { signWebhook, webhookKey } from "../../src/platform/http/standardWebhooks.ts";
import { MODULES } from "../../src/modules/index.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { createTesseraServer } from "../../src/platform/server.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { SET_TENANT_MODULE } from "../helpers/fixtures.ts";
import { until } from "../helpers/wait.ts";
import { bot, createProduct, createStore, fundCustomer, gql, type TestStore } from "../commerce/store.ts";
import { type Shop, startShop } from "./shop.ts";

let shop: Shop;
let app: TestApp;
let mock: MockPaymentsProvider;
let store: TestStore;
let api: ReturnType<typeof bot>;

beforeAll(async () => {
  shop = await startShop();
  ({ app, mock, store, api } = shop);
});
afterAll(() => shop.stop());

let nextTelegramId = 7000;
async function customer(referrer?: number): Promise<number> {
  const telegramId = nextTelegramId++;
  const created = await api.post("/api/bot/customers", { telegramId, referrerTelegramId: referrer });
  expect(created.status).toBe(201);
  return telegramId;
}

async function orderOf(telegramId: number, productId: string, quantity: number): Promise<string> {
  const order = await api.post("/api/bot/orders", { telegramId, items: [{ productId, quantity }] });
  expect(order.status).toBe(201);
  return order.body.id;
}

const stockOf = async (productId: string) =>
  (await app.db.ownerPool.query("select stock from app_public.products where id = $1", [productId])).rows[0].stock;

const ledgerOf = async (paymentId: string) =>
  (
    await app.db.ownerPool.query(
      `select type, amount::text, customer_id is null as store from app_public.transactions
       where order_id = (select order_id from app_public.payments where id = $1) or payment_id = $1
       order by type, amount`,
      [paymentId],
    )
  ).rows;

async function pay(invoiceId: string, what: "pay" | "fail" = "pay", webhook = true) {
  const response = await fetch(`${mock.url}/invoices/${invoiceId}/${what}${webhook ? "" : "?webhook=0"}`, {
    method: "POST",
    headers: { accept: "application/json" },
  });
  return (await response.json()) as { status: string; webhook: { status: number | null } };
}

/** A delivery signed by the reference implementation of Standard Webhooks. */
function signed(body: string, options: { id?: string; at?: Date; secret?: string } = {}) {
  const id = options.id ?? `msg_${randomBytes(8).toString("hex")}`;
  const at = options.at ?? new Date();
  const signature = new Webhook(options.secret ?? DEV_PAYMENT_WEBHOOK_SECRET).sign(id, at, body);
  return {
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": signature,
  };
}

const deliver = (body: string, headers: Record<string, string>, provider = "mock") =>
  fetch(`${app.url}/api/webhook/payments/${provider}`, { method: "POST", headers, body });

const event = (providerPaymentId: string, amount: string, type = "payment.succeeded", currency = "USD") =>
  JSON.stringify({ type, data: { providerPaymentId, amount, currency } });

test("an order paid at the provider: stock held, settled once, ledger, referral payout, bot event", async () => {
  const productId = await createProduct(app, store.admin, { name: "Lamp", price: "25.00", stock: 3 });
  const referrer = await customer();
  const buyer = await customer(referrer);
  const orderId = await orderOf(buyer, productId, 2);

  const started = await api.post(`/api/bot/orders/${orderId}/pay`, { method: "provider" });
  expect(started.status).toBe(201);
  const payment = started.body.payment;
  expect(payment).toMatchObject({ provider: "mock", status: "pending", amount: "50.00", currency: "USD", orderId });
  expect(payment.paymentUrl).toMatch(new RegExp(`^${mock.url}/invoices/`));
  expect(await stockOf(productId)).toBe(1); // held while the customer pays
  // Asking again answers the payment in progress; paying from the balance meanwhile is refused.
  const again = await api.post(`/api/bot/orders/${orderId}/pay`, { method: "provider" });
  expect(again.status).toBe(201);
  expect(again.body.payment.id).toBe(payment.id);
  const balancePay = await api.post(`/api/bot/orders/${orderId}/pay`, { method: "balance" });
  expect(balancePay.status).toBe(409);
  expect(balancePay.body.error.code).toBe("CONFLICT");

  const page = await fetch(payment.paymentUrl);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain("50.00");
  const paid = await pay(payment.providerPaymentId);
  expect(paid).toMatchObject({ status: "succeeded", webhook: { status: 200 } });

  const read = await api.get(`/api/bot/payments/${payment.id}`);
  expect(read.status).toBe(200);
  expect(read.body.payment).toMatchObject({ status: "succeeded", providerPaymentId: payment.providerPaymentId });
  expect(read.body.payment.paidAt).not.toBeNull();
  expect((await api.get(`/api/bot/orders/${orderId}`)).body.status).toBe("paid");
  expect(await stockOf(productId)).toBe(1); // taken once, when the payment started
  expect(await ledgerOf(payment.id)).toEqual([
    { type: "deposit", amount: "50.00", store: false },
    { type: "purchase", amount: "-50.00", store: false },
    { type: "purchase", amount: "50.00", store: true },
    { type: "referral_payout", amount: "-5.00", store: true },
    { type: "referral_payout", amount: "5.00", store: false },
  ]);
  expect((await api.get(`/api/bot/customers/${buyer}/balance`)).body.balance).toBe("0.00");
  expect((await api.get(`/api/bot/customers/${referrer}/balance`)).body.balance).toBe("5.00");

  const events = await api.get("/api/bot/events");
  expect(events.status).toBe(200);
  const mine = events.body.items.filter((item: { data: { paymentId: string } }) => item.data.paymentId === payment.id);
  expect(mine).toEqual([
    expect.objectContaining({
      type: "payment.succeeded",
      data: expect.objectContaining({ orderId, amount: "50.00", orderPaid: true, telegramId: buyer }),
    }),
  ]);
  const after = await api.get(`/api/bot/events?cursor=${events.body.nextCursor}`);
  expect(after.body).toEqual({ items: [], nextCursor: events.body.nextCursor });
});

test("the same delivery five times at once: one deposit, one payout, every answer 200", async () => {
  const productId = await createProduct(app, store.admin, { name: "Mug", price: "10.00", stock: 5 });
  const buyer = await customer(await customer());
  const orderId = await orderOf(buyer, productId, 1);
  const { payment } = (await api.post(`/api/bot/orders/${orderId}/pay`, { method: "provider" })).body;

  const body = event(payment.providerPaymentId, "10.00");
  const headers = signed(body);
  const answers = await Promise.all(Array.from({ length: 5 }, () => deliver(body, headers)));
  expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
  const outcomes = await Promise.all(
    answers.map(async (answer) => ((await answer.json()) as { outcome: string }).outcome),
  );
  expect(outcomes.sort()).toEqual(["duplicate", "duplicate", "duplicate", "duplicate", "succeeded"]);
  const ledger = await ledgerOf(payment.id);
  expect(ledger.filter((row) => row.type === "deposit")).toHaveLength(1);
  expect(ledger.filter((row) => row.type === "referral_payout" && !row.store)).toEqual([
    { type: "referral_payout", amount: "1.00", store: false },
  ]);
  const recorded = await app.db.ownerPool.query(
    "select outcome, count(*)::int from app_private.payment_webhooks where webhook_id = $1 group by 1 order by 1",
    [headers["webhook-id"]],
  );
  expect(recorded.rows).toEqual([
    { outcome: "duplicate", count: 4 },
    { outcome: "processed", count: 1 },
  ]);
  // New deliveries (other ids) of the same outcome, or of the other one, change nothing either,
  // all at once too: they queue on the payment, none fails.
  const others = [body, body, body, event(payment.providerPaymentId, "10.00", "payment.failed"), body];
  const later = await Promise.all(others.map((text) => deliver(text, signed(text))));
  expect(later.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
  for (const answer of later) expect(await answer.json()).toEqual({ outcome: "unchanged" });
  expect(await ledgerOf(payment.id)).toHaveLength(ledger.length);
});

test("deliveries with different ids for one payment, at once: it is settled once, every answer 200", async () => {
  const productId = await createProduct(app, store.admin, { name: "Bowl", price: "7.00", stock: 2 });
  const buyer = await customer(await customer());
  const orderId = await orderOf(buyer, productId, 1);
  const { payment } = (await api.post(`/api/bot/orders/${orderId}/pay`, { method: "provider" })).body;
  const body = event(payment.providerPaymentId, "7.00");
  const answers = await Promise.all(Array.from({ length: 8 }, () => deliver(body, signed(body))));
  expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(200));
  const outcomes = await Promise.all(
    answers.map(async (answer) => ((await answer.json()) as { outcome: string }).outcome),
  );
  expect(outcomes.sort()).toEqual(["succeeded", ...Array(7).fill("unchanged")]);
  const ledger = await ledgerOf(payment.id);
  expect(ledger.filter((row) => row.type === "deposit")).toHaveLength(1);
  expect(ledger.filter((row) => row.type === "referral_payout")).toHaveLength(2);
  expect(await stockOf(productId)).toBe(1);
});

test("a payment that settles after its bot was disabled completes the order without a referral payout", async () => {
  const productId = await createProduct(app, store.admin, { name: "Kite", price: "30.00", stock: null });
  const buyer = await customer(await customer());
  const created = await gql(
    app,
    store.admin.token,
    `mutation { createBot(input: { name: "Short-lived", referralPercent: "50" }) { bot { rowId } } }`,
  );
  const shortLived = bot(app, { apiKey: store.apiKey, botId: created.createBot.bot.rowId });
  const order = await shortLived.post("/api/bot/orders", { telegramId: buyer, items: [{ productId, quantity: 1 }] });
  const { payment } = (await shortLived.post(`/api/bot/orders/${order.body.id}/pay`, { method: "provider" })).body;
  await app.db.ownerPool.query("update app_public.bots set status = 'disabled' where id = $1", [
    created.createBot.bot.rowId,
  ]);
  await pay(payment.providerPaymentId);
  expect((await api.get(`/api/bot/orders/${order.body.id}`)).body.status).toBe("paid");
  expect((await ledgerOf(payment.id)).map((row) => row.type)).toEqual(["deposit", "purchase", "purchase"]);
});

test("an order for a product switched off since it was placed is not paid; money on its way stays", async () => {
  const productId = await createProduct(app, store.admin, { name: "Tent", price: "40.00", stock: 4 });
  const buyer = await customer();
  const setActive = (active: boolean) =>
    app.db.ownerPool.query("update app_public.products set active = $1 where id = $2", [active, productId]);
  const deposit = (await api.post("/api/bot/deposits", { telegramId: buyer, amount: "100" })).body.payment;
  await pay(deposit.providerPaymentId);

  // Switched off before paying: both ways are refused, and nothing is taken.
  const refused = await orderOf(buyer, productId, 1);
  await setActive(false);
  for (const method of ["balance", "provider"]) {
    const answer = await api.post(`/api/bot/orders/${refused}/pay`, { method });
    expect([method, answer.status, answer.body.error.code]).toEqual([method, 409, "CONFLICT"]);
  }
  expect(await stockOf(productId)).toBe(4);
  expect((await api.get(`/api/bot/customers/${buyer}/balance`)).body.balance).toBe("100.00");
  expect(
    (await app.db.ownerPool.query("select 1 from app_public.payments where order_id = $1", [refused])).rowCount,
  ).toBe(0);
  expect((await api.get(`/api/bot/orders/${refused}`)).body.status).toBe("pending");

  // Switched off while the customer pays at the provider: the money lands on the balance, the
  // stock goes back, the order stays pending, and the bot hears orderPaid: false.
  await setActive(true);
  const orderId = await orderOf(buyer, productId, 2);
  const { payment } = (await api.post(`/api/bot/orders/${orderId}/pay`, { method: "provider" })).body;
  expect(await stockOf(productId)).toBe(2);
  await setActive(false);
  expect(await pay(payment.providerPaymentId)).toMatchObject({ status: "succeeded", webhook: { status: 200 } });
  expect((await api.get(`/api/bot/payments/${payment.id}`)).body.payment.status).toBe("succeeded");
  expect((await api.get(`/api/bot/orders/${orderId}`)).body.status).toBe("pending");
  expect(await stockOf(productId)).toBe(4);
  expect(await ledgerOf(payment.id)).toEqual([{ type: "deposit", amount: "80.00", store: false }]);
  expect((await api.get(`/api/bot/customers/${buyer}/balance`)).body.balance).toBe("180.00");
  const { rows: events } = await app.db.ownerPool.query(
    "select type, payload->'orderPaid' as paid from app_public.bot_events where payload->>'paymentId' = $1",
    [payment.id],
  );
  expect(events).toEqual([{ type: "payment.succeeded", paid: false }]);
});

test("a success after commerce was switched off leaves the order unpaid and pays no referral", async () => {
  const productId = await createProduct(app, store.admin, { name: "Lamp", price: "20.00", stock: 3 });
  const buyer = await customer(await customer());
  const orderId = await orderOf(buyer, productId, 1);
  const { payment } = (await api.post(`/api/bot/orders/${orderId}/pay`, { method: "provider" })).body;
  expect(await stockOf(productId)).toBe(2);
  const setCommerce = (enabled: boolean) =>
    gql(app, store.admin.token, SET_TENANT_MODULE, { module: "commerce", enabled });
  await setCommerce(false);
  try {
    expect(await pay(payment.providerPaymentId)).toMatchObject({ status: "succeeded", webhook: { status: 200 } });
  } finally {
    await setCommerce(true);
  }
  // The store was closed when the money came: it stays the customer's, as for a product switched off.
  expect((await api.get(`/api/bot/orders/${orderId}`)).body.status).toBe("pending");
  expect(await stockOf(productId)).toBe(3);
  expect(await ledgerOf(payment.id)).toEqual([{ type: "deposit", amount: "20.00", store: false }]);
  expect((await api.get(`/api/bot/customers/${buyer}/balance`)).body.balance).toBe("20.00");
});

test("bad signatures or times, malformed bodies, unknown payments, wrong amounts change nothing", async () => {
  const productId = await createProduct(app, store.admin, { name: "Pen", price: "3.00", stock: 4 });
  const buyer = await customer();
  const orderId = await orderOf(buyer, productId, 1);
  const { payment } = (await api.post(`/api/bot/orders/${orderId}/pay`, { method: "provider" })).body;
  const body = event(payment.providerPaymentId, "3.00");

  const otherSecret = `whsec_${randomBytes(32).toString("base64")}`;
  const refusals: Array<[string, Record<string, string>, number, string]> = [
    ["another secret", signed(body, { secret: otherSecret }), 401, "INVALID_SIGNATURE"],
    ["six minutes old", signed(body, { at: new Date(Date.now() - 6 * 60_000) }), 401, "INVALID_SIGNATURE"],
    ["six minutes ahead", signed(body, { at: new Date(Date.now() + 6 * 60_000) }), 401, "INVALID_SIGNATURE"],
    ["no signature", { "content-type": "application/json" }, 401, "INVALID_SIGNATURE"],
    // The right HMAC, not written as the scheme writes it (base64 with its padding), is no signature.
    ...(
      [
        ["junk after the signature", (sig: string) => `${sig}!!!`],
        ["no padding", (sig: string) => sig.replace(/=+$/, "")],
        ["a comma and more", (sig: string) => `${sig},v1`],
      ] as const
    ).map(([what, change]): [string, Record<string, string>, number, string] => {
      const headers = signed(body);
      const [version, value] = headers["webhook-signature"].split(",");
      return [what, { ...headers, "webhook-signature": `${version},${change(value!)}` }, 401, "INVALID_SIGNATURE"];
    }),
  ];
  for (const [what, headers, status, code] of refusals) {
    const answer = await deliver(body, headers);
    expect([what, answer.status, ((await answer.json()) as { error: { code: string } }).error.code]).toEqual([
      what,
      status,
      code,
    ]);
  }
  // The body changed after signing (one byte): the signature is over the raw bytes.
  const tampered = await deliver(body.replace("3.00", "3.01"), signed(body));
  expect(tampered.status).toBe(401);

  for (const [what, text, status, code] of [
    ["malformed JSON", '{"type": "payment.succeeded", "data": ', 400, "VALIDATION_FAILED"],
    ["not an event", JSON.stringify({ hello: "world" }), 400, "VALIDATION_FAILED"],
    [
      "a key more in data",
      JSON.stringify({ type: "payment.succeeded", data: { ...JSON.parse(body).data, extra: 1 } }),
      400,
      "VALIDATION_FAILED",
    ],
    // A byte order mark before the JSON is read past, as on every JSON route: the lookup is reached.
    ["a byte order mark", `\uFEFF${event("inv_does_not_exist", "3.00")}`, 404, "NOT_FOUND"],
    // A proxy or a log in front reads "payment.failed"; JSON.parse would have kept the success.
    [
      "a key twice",
      `{"type":"payment.failed","data":${JSON.stringify(JSON.parse(body).data)},"type":"payment.succeeded"}`,
      400,
      "VALIDATION_FAILED",
    ],
    ["unknown payment", event("inv_does_not_exist", "3.00"), 404, "NOT_FOUND"],
    ["another amount", event(payment.providerPaymentId, "2.99"), 409, "PAYMENT_AMOUNT_MISMATCH"],
    [
      "another currency",
      event(payment.providerPaymentId, "3.00", "payment.succeeded", "EUR"),
      409,
      "PAYMENT_AMOUNT_MISMATCH",
    ],
  ] as const) {
    const answer = await deliver(text, signed(text));
    expect([what, answer.status, ((await answer.json()) as { error: { code: string } }).error.code]).toEqual([
      what,
      status,
      code,
    ]);
  }
  // An unknown provider in the path is refused before anything is read.
  expect((await deliver(body, signed(body), "paypal")).status).toBe(400);

  // A signed body that is not JSON in UTF-8 is refused as on every JSON route, never read loosely
  // (its provider id would have been looked up with U+FFFD in it).
  const bytes = Buffer.concat([Buffer.from(body.slice(0, -3)), Buffer.from([0xff]), Buffer.from("}}")]);
  for (const [what, sent, headers, status, reason] of [
    ["text/plain", body, { ...signed(body), "content-type": "text/plain" }, 415, undefined],
    ["no content type", body, (({ "content-type": _, ...rest }) => rest)(signed(body)), 415, undefined],
    ["latin1", body, { ...signed(body), "content-type": "application/json; charset=latin1" }, 415, undefined],
    ["a lone surrogate", event("inv_\ud800", "3.00"), signed(event("inv_\ud800", "3.00")), 400, "NOT_UNICODE"],
    [
      "a byte that is not UTF-8",
      bytes,
      { "content-type": "application/json", ...signWebhook(webhookKey(DEV_PAYMENT_WEBHOOK_SECRET), "msg_ff", bytes) },
      400,
      "NOT_UNICODE",
    ],
  ] as const) {
    const answer = await fetch(`${app.url}/api/webhook/payments/mock`, { method: "POST", headers, body: sent });
    const { error } = (await answer.json()) as { error: { code: string; details?: { reason?: string } } };
    expect([what, answer.status, error.code, error.details?.reason]).toEqual([
      what,
      status,
      status === 415 ? "UNSUPPORTED_MEDIA_TYPE" : "VALIDATION_FAILED",
      reason,
    ]);
  }

  expect((await api.get(`/api/bot/payments/${payment.id}`)).body.payment.status).toBe("pending");
  expect(await ledgerOf(payment.id)).toEqual([]);
  const outcomes = await app.db.ownerPool.query(
    `select outcome, count(*)::int from app_private.payment_webhooks
     where received_at > now() - interval '1 minute' and outcome <> 'processed' group by 1 order by 1`,
  );
  expect(outcomes.rows).toEqual(
    expect.arrayContaining([
      { outcome: "amount_mismatch", count: 2 },
      { outcome: "malformed", count: 9 },
      { outcome: "unknown_payment", count: 2 },
    ]),
  );
});

test("the answer to a body that is not JSON names no byte of it", async () => {
  const text = '{"type": "payment.succeeded", "data": {"providerPaymentId": "inv_\u00e9cho';
  const answer = await deliver(text, signed(text));
  const { error } = (await answer.json()) as { error: { code: string; details: { detail: string } } };
  expect([answer.status, error.code, error.details.detail]).toEqual([
    400,
    "VALIDATION_FAILED",
    "the body is not valid JSON",
  ]);
});

test("deliveries without a valid signature are answered 401 and write nothing, forty at once", async () => {
  // What operators see instead of rows: the HTTP metrics' count of 401s on the route.
  const refusedCount = async () => {
    const text = await (await fetch(`${app.url}/metrics`)).text();
    const route =
      /tessera_http_requests_total\{method="POST",route="\/api\/webhook\/payments\/:provider",status="401"\} (\d+)/;
    return Number(text.match(route)?.[1] ?? 0);
  };
  const before = await refusedCount();
  const ids = Array.from({ length: 40 }, (_, i) => `msg_unsigned_${i}_${randomBytes(4).toString("hex")}`);
  const body = event("inv_anything", "1.00");
  const answers = await Promise.all(
    ids.map((id, i) =>
      deliver(body, {
        ...signed(body, { id, secret: i % 2 ? `whsec_${randomBytes(32).toString("base64")}` : undefined }),
        // Half signed with another secret, half with the right one over another timestamp.
        ...(i % 2 ? {} : { "webhook-timestamp": "1" }),
      }),
    ),
  );
  expect(answers.map((answer) => answer.status)).toEqual(ids.map(() => 401));
  const written = await app.db.ownerPool.query(
    "select count(*)::int as n from app_private.payment_webhooks where webhook_id = any($1)",
    [ids],
  );
  expect(written.rows[0].n).toBe(0);
  // Counted as each answer is written: the last may be counted a moment after the client read it.
  await until(async () => (await refusedCount()) === before + 40, "the forty refusals to be counted");
});

test("a signed delivery the ledger refuses (a deposit the balance cannot hold) is recorded as refused", async () => {
  const buyer = await customer();
  const { rows } = await app.db.ownerPool.query("select id from app_public.customers where telegram_id = $1", [buyer]);
  await fundCustomer(app, store.admin, rows[0].id, "9999999999999999.00");
  const deposit = await api.post("/api/bot/deposits", { telegramId: buyer, amount: "0.50" });
  expect(deposit.status).toBe(201);
  // Meanwhile the balance grew: the deposit no longer fits.
  await fundCustomer(app, store.admin, rows[0].id, "0.60");
  const text = event(deposit.body.payment.providerPaymentId, "0.50");
  const headers = signed(text);
  const answer = await deliver(text, headers);
  expect([answer.status, ((await answer.json()) as { error: { code: string } }).error.code]).toEqual([
    400,
    "VALIDATION_FAILED",
  ]);
  const recorded = await app.db.ownerPool.query(
    "select outcome, http_status from app_private.payment_webhooks where webhook_id = $1",
    [headers["webhook-id"]],
  );
  expect(recorded.rows).toEqual([{ outcome: "refused", http_status: 400 }]);
  expect((await api.get(`/api/bot/customers/${buyer}/balance`)).body.balance).toBe("9999999999999999.60");
});

test("a compressed delivery is checked inflated; one refused while it is read is answered, not recorded", async () => {
  const text = event("inv_compressed_but_unknown", "1.00");
  const headers = signed(text);
  const post = (body: Buffer, encoding: string, webhookId = headers["webhook-id"]) =>
    fetch(`${app.url}/api/webhook/payments/mock`, {
      method: "POST",
      headers: { ...headers, "webhook-id": webhookId, "content-encoding": encoding },
      body,
    });
  // Signed over the JSON, sent gzipped: read, verified and looked up (no such payment); brotli too.
  const brotli = await post(brotliCompressSync(text), "br");
  expect(brotli.status).toBe(404);
  const inflated = await post(gzipSync(text), "gzip");
  expect([inflated.status, ((await inflated.json()) as { error: { code: string } }).error.code]).toEqual([
    404,
    "NOT_FOUND",
  ]);
  // Bytes that do not inflate, and an encoding the server does not read.
  const broken = await post(Buffer.from("not gzip at all"), "gzip", "msg_broken_gzip");
  const lzw = await post(Buffer.from(text), "compress", "msg_compress");
  expect([broken.status, lzw.status]).toEqual([400, 415]);
  const recorded = await app.db.ownerPool.query(
    "select webhook_id, outcome from app_private.payment_webhooks where webhook_id = any($1) order by 1",
    [[headers["webhook-id"], "msg_broken_gzip", "msg_compress"]],
  );
  const lookedUp = { webhook_id: headers["webhook-id"], outcome: "unknown_payment" };
  expect(recorded.rows).toEqual([lookedUp, lookedUp]);
});

test("a failed payment gives the stock back and tells the bot; a deposit credits the balance", async () => {
  const productId = await createProduct(app, store.admin, { name: "Cap", price: "8.00", stock: 2 });
  const buyer = await customer();
  const orderId = await orderOf(buyer, productId, 2);
  const { payment } = (await api.post(`/api/bot/orders/${orderId}/pay`, { method: "provider" })).body;
  expect(await stockOf(productId)).toBe(0);
  expect(await pay(payment.providerPaymentId, "fail")).toMatchObject({ status: "failed", webhook: { status: 200 } });
  expect((await api.get(`/api/bot/payments/${payment.id}`)).body.payment.status).toBe("failed");
  expect(await stockOf(productId)).toBe(2);
  expect((await api.get(`/api/bot/orders/${orderId}`)).body.status).toBe("pending");

  const deposit = await api.post("/api/bot/deposits", { telegramId: buyer, amount: "12.5" });
  expect(deposit.status).toBe(201);
  expect(deposit.body.payment).toMatchObject({ kind: "deposit", orderId: null, amount: "12.50", status: "pending" });
  await pay(deposit.body.payment.providerPaymentId);
  expect((await api.get(`/api/bot/customers/${buyer}/balance`)).body.balance).toBe("12.50");

  const bads = [
    { telegramId: buyer, amount: "0" },
    { telegramId: buyer, amount: "-1" },
    { telegramId: buyer, amount: "10000000000" },
    { telegramId: buyer, amount: "1e3" },
    { telegramId: buyer },
  ];
  for (const bad of bads) expect((await api.post("/api/bot/deposits", bad)).status).toBe(400);
  expect((await api.post("/api/bot/deposits", { telegramId: 999_999_999, amount: "1" })).status).toBe(404);
});

test("another tenant's bot sees none of these payments, and cannot pay this store's orders", async () => {
  const rival = await createStore(app);
  const rivalBot = bot(app, rival);
  const productId = await createProduct(app, store.admin, { name: "Hat", price: "4.00", stock: null });
  const orderId = await orderOf(await customer(), productId, 1);
  const { payment } = (await api.post(`/api/bot/orders/${orderId}/pay`, { method: "provider" })).body;
  expect((await rivalBot.get(`/api/bot/payments/${payment.id}`)).status).toBe(404);
  expect((await rivalBot.post(`/api/bot/orders/${orderId}/pay`, { method: "provider" })).status).toBe(404);
  expect((await rivalBot.get("/api/bot/events")).body.items).toEqual([]);
});

test("a provider that refuses the invoice itself: 422 PAYMENT_PROVIDER_REFUSED, the stock not held", async () => {
  // The mock provider takes at most 12 digits before the point; an order's total may have 16.
  const productId = await createProduct(app, store.admin, { name: "Yacht", price: "1000000000000.00", stock: 1 });
  const orderId = await orderOf(await customer(), productId, 1);
  const answer = await api.post(`/api/bot/orders/${orderId}/pay`, { method: "provider" });
  expect([answer.status, answer.body.error.code]).toEqual([422, "PAYMENT_PROVIDER_REFUSED"]);
  expect(await stockOf(productId)).toBe(1);
  const { rows } = await app.db.ownerPool.query("select status from app_public.payments where order_id = $1", [
    orderId,
  ]);
  expect(rows).toEqual([{ status: "failed" }]);
});

test("a provider that cannot be reached, or whose invoice is not this payment's: 502, the stock not held", async () => {
  // Each answer the fake provider gives to POST /invoices, in turn; the first is a good invoice.
  let answer: (body: { amount: string; currency: string }) => [number, object?] = () => [503];
  const provider = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk: Buffer) => (text += chunk));
    req.on("end", () => {
      const [status, body] = answer(JSON.parse(text || "{}") as { amount: string; currency: string });
      res.writeHead(status, { "content-type": "application/json" }).end(body ? JSON.stringify(body) : "");
    });
  });
  await new Promise<void>((resolve) => provider.listen(0, "127.0.0.1", resolve));
  const other = await startTestApp({
    env: { MOCK_PAYMENTS_PROVIDER_URL: `http://127.0.0.1:${(provider.address() as AddressInfo).port}` },
  });
  const invoice = (fields: object) => (asked: { amount: string; currency: string }) =>
    [201, { id: "inv_same", url: "https://pay.example.test/p", status: "pending", ...asked, ...fields }] as [
      number,
      object,
    ];
  try {
    const otherStore = await createStore(other);
    const otherBot = bot(other, otherStore);
    await otherBot.post("/api/bot/customers", { telegramId: 1 });
    const productId = await createProduct(other, otherStore.admin, { name: "Box", price: "2.00", stock: 10 });
    const pay = async () => {
      const order = await otherBot.post("/api/bot/orders", { telegramId: 1, items: [{ productId, quantity: 1 }] });
      return otherBot.post(`/api/bot/orders/${order.body.id}/pay`, { method: "provider" });
    };
    answer = invoice({});
    expect((await pay()).status).toBe(201);
    // Fails on the code before the fix for each answer but the 503: the payment stayed pending with
    // no invoice (or an invoice for another sum), holding the order's stock for an hour.
    for (const wrong of [
      () => [503] as [number],
      invoice({}), // the id another payment already holds
      invoice({ id: "inv\u0000nul" }),
      invoice({ id: "inv_long_url", url: `https://pay.example.test/${"p".repeat(70_000)}` }),
      invoice({ id: "inv_other_sum", amount: "999.00" }),
      invoice({ id: "inv_other_currency", currency: "EUR" }),
    ]) {
      answer = wrong;
      const refused = await pay();
      expect([refused.status, refused.body.error.code]).toEqual([502, "PAYMENT_PROVIDER_UNAVAILABLE"]);
    }
    const stock = await other.db.ownerPool.query("select stock from app_public.products where id = $1", [productId]);
    expect(stock.rows[0].stock).toBe(9);
    const statuses = await other.db.ownerPool.query(
      "select status, count(*)::int as n from app_public.payments group by 1 order by 1",
    );
    expect(statuses.rows).toEqual([
      { status: "failed", n: 6 },
      { status: "pending", n: 1 },
    ]);
  } finally {
    await other.stop();
    await new Promise((resolve) => (provider as Server).close(resolve));
  }
});

/** A provider whose `POST /invoices` waits until the test answers it; `asked` counts the requests. */
async function startHeldProvider() {
  const waiting: Array<(status: number) => void> = [];
  let asked = 0;
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk: Buffer) => (text += chunk));
    req.on("end", () => {
      asked++;
      const { amount, currency } = JSON.parse(text) as { amount: string; currency: string };
      waiting.push((status) => {
        const invoice = { id: `inv_held_${asked}`, url: `https://pay.example.test/${asked}`, status: "pending" };
        const body = status === 201 ? JSON.stringify({ ...invoice, amount, currency }) : "";
        res.writeHead(status, { "content-type": "application/json" }).end(body);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    asked: () => asked,
    /** Answers every invoice request waiting with this status (201: an invoice). */
    answer: (status: number) => waiting.splice(0).forEach((respond) => respond(status)),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

test("a second pay while the first asks the provider answers the first's invoice, or its error", async () => {
  const held = await startHeldProvider();
  const logLines: string[] = [];
  const first = await startTestApp({ env: { MOCK_PAYMENTS_PROVIDER_URL: held.url }, logLines });
  // Another server on the same database: a process that knows nothing of the first's request.
  const second = await createTesseraServer({
    modules: MODULES,
    config: first.config,
    database: first.db.urls,
    logger: createLogger("debug", "tessera", { write: (line: string) => void logLines.push(line) }),
  });
  /** The payment ids requests are waiting for the invoice of, here or in the other process. */
  const waitingFor = (inThisProcess: boolean) =>
    logLines
      .map((line) => JSON.parse(line) as { msg: string; paymentId?: string; inThisProcess?: boolean })
      .filter((line) => line.msg === "waiting for the invoice asked for" && line.inThisProcess === inThisProcess)
      .map((line) => line.paymentId);
  await new Promise<void>((resolve) => second.httpServer.listen(0, "127.0.0.1", resolve));
  const secondApp = { ...first, url: `http://127.0.0.1:${(second.httpServer.address() as AddressInfo).port}` };
  try {
    const heldStore = await createStore(first);
    const here = bot(first, heldStore);
    const there = bot(secondApp, heldStore);
    await here.post("/api/bot/customers", { telegramId: 1 });
    const productId = await createProduct(first, heldStore.admin, { name: "Kite", price: "3.00", stock: 10 });
    const payments = async (outcome: number) => {
      const order = await here.post("/api/bot/orders", { telegramId: 1, items: [{ productId, quantity: 1 }] });
      const asked = held.asked();
      const path = `/api/bot/orders/${order.body.id}/pay`;
      const firstPay = here.post(path, { method: "provider" }).then((answer) => answer);
      await until(() => held.asked() === asked + 1, "the first pay to ask the provider");
      const { rows } = await first.db.ownerPool.query("select id from app_public.payments where order_id = $1", [
        order.body.id,
      ]);
      // Before the fix both answered at once, the payment with no invoice yet (paymentUrl null).
      const samePay = here.post(path, { method: "provider" }).then((answer) => answer);
      const otherPay = there.post(path, { method: "provider" }).then((answer) => answer);
      await until(
        () => waitingFor(true).includes(rows[0].id) && waitingFor(false).includes(rows[0].id),
        "both to wait for the invoice",
      );
      held.answer(outcome);
      const answers = await Promise.all([firstPay, samePay, otherPay]);
      expect(held.asked()).toBe(asked + 1);
      return answers;
    };

    const paid = await payments(201);
    expect(paid.map((answer) => answer.status)).toEqual([201, 201, 201]);
    const [one, ...others] = paid.map((answer) => answer.body.payment);
    expect(one.paymentUrl).toMatch(/^https:\/\/pay\.example\.test\//);
    expect(others).toEqual([one, one]);

    const failed = await payments(503);
    expect(failed.map((answer) => [answer.status, answer.body.error?.code])).toEqual(
      Array(3).fill([502, "PAYMENT_PROVIDER_UNAVAILABLE"]),
    );
    const refused = await payments(422);
    expect(refused.map((answer) => [answer.status, answer.body.error?.code])).toEqual(
      Array(3).fill([422, "PAYMENT_PROVIDER_REFUSED"]),
    );
    const stock = await first.db.ownerPool.query("select stock from app_public.products where id = $1", [productId]);
    expect(stock.rows[0].stock).toBe(9);
  } finally {
    await second.close();
    await first.stop();
    await held.close();
  }
});
