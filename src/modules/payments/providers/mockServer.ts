/**
 * The mock payment provider: a small HTTP server that issues invoices, shows each one as a page with
 * a Pay and a Fail button, and announces the outcome with one signed webhook (Standard Webhooks).
 * Development (`npm start`, `npm run mock:payments`) and tests use it; invoices live in memory.
 *
 *   POST /invoices            {amount, currency, description, reference} → 201 {id, url, status, amount, currency}
 *   GET  /invoices/{id}       → {id, status, amount, currency, reference}
 *   GET  /invoices/{id}/page  → the HTML page the customer pays on
 *   POST /invoices/{id}/pay   → succeeded + webhook payment.succeeded (`?webhook=0`: no webhook)
 *   POST /invoices/{id}/fail  → failed + webhook payment.failed
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { signWebhook, webhookKey } from "../../../platform/http/standardWebhooks.ts";
import { upstreamFailure } from "../../../platform/http/upstreamBody.ts";

export type MockInvoiceStatus = "pending" | "succeeded" | "failed";

export interface MockInvoice {
  id: string;
  status: MockInvoiceStatus;
  amount: string;
  currency: string;
  description: string;
  reference: string;
  createdAt: Date;
}

/** What one webhook delivery gave: the receiver's HTTP status, or null and why when none came. */
export interface WebhookOutcome {
  status: number | null;
  error?: string;
}

export interface MockPaymentsOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** The `whsec_` secret webhooks are signed with. */
  webhookSecret: string;
  /** Where webhooks go; without one, pay and fail change the status and report `webhook.status: null`. */
  webhookUrl?: string;
  /** The base of the invoice page URLs, when the server is reached through another address. */
  publicUrl?: string;
  /** Per delivery; default 10 s. */
  webhookTimeoutMs?: number;
  /** Told about every delivery attempt (the CLI and `npm start` log them). */
  onWebhook?(delivery: { invoiceId: string; type: string; url: string } & WebhookOutcome): void;
}

export interface MockPaymentsProvider {
  /** The base URL (publicUrl when given), without a trailing slash. */
  url: string;
  setWebhookUrl(url: string | undefined): void;
  /** The invoices, by id (read-only: tests look, the HTTP API changes them). */
  invoices: ReadonlyMap<string, Readonly<MockInvoice>>;
  close(): Promise<void>;
}

/** Invoices kept at most; the oldest go first (a development server that runs for weeks). */
const MAX_INVOICES = 10_000;
const MAX_BODY_BYTES = 64 * 1024;
const AMOUNT = /^(?:0|[1-9]\d{0,11})(?:\.\d{1,2})?$/;
const CURRENCY = /^[A-Z]{3}$/;

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function randomId(prefix: string): string {
  return prefix + randomBytes(12).toString("base64url");
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(text);
}

function sendHtml(res: ServerResponse, status: number, title: string, body: string): void {
  const page =
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    "<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}" +
    "form{display:inline-block;margin-right:.5rem}button{font-size:1.1rem;padding:.5rem 1.5rem}</style>" +
    `</head><body>${body}</body></html>`;
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
  });
  res.end(page);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "the body is too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseInvoiceRequest(body: Buffer): Pick<MockInvoice, "amount" | "currency" | "description" | "reference"> {
  let input: unknown;
  try {
    input = JSON.parse(body.toString("utf8"));
  } catch {
    throw new HttpError(400, "the body must be JSON");
  }
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw new HttpError(400, "the body must be a JSON object");
  const { amount, currency, description, reference } = input as Record<string, unknown>;
  if (typeof amount !== "string" || !AMOUNT.test(amount) || Number(amount) <= 0)
    throw new HttpError(400, 'amount must be a positive decimal string with at most 2 decimals, e.g. "12.50"');
  if (typeof currency !== "string" || !CURRENCY.test(currency))
    throw new HttpError(400, 'currency must be an ISO 4217 code, e.g. "USD"');
  if (typeof description !== "string" || description.length > 1000)
    throw new HttpError(400, "description must be a string of at most 1000 characters");
  if (typeof reference !== "string" || reference.length === 0 || reference.length > 200)
    throw new HttpError(400, "reference must be a string of 1 to 200 characters");
  return { amount, currency, description, reference };
}

/** JSON unless the client prefers HTML (a browser submitting the page's form). */
function wantsJson(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? "";
  return accept.includes("application/json") || !accept.includes("text/html");
}

export async function startMockPaymentsProvider(options: MockPaymentsOptions): Promise<MockPaymentsProvider> {
  const key = webhookKey(options.webhookSecret);
  const host = options.host ?? "127.0.0.1";
  const timeoutMs = options.webhookTimeoutMs ?? 10_000;
  let webhookUrl = options.webhookUrl;
  const invoices = new Map<string, MockInvoice>();
  let base = "";

  async function deliver(invoice: MockInvoice): Promise<WebhookOutcome> {
    const url = webhookUrl;
    if (!url) return { status: null, error: "no webhook URL is set" };
    const type = invoice.status === "succeeded" ? "payment.succeeded" : "payment.failed";
    const outcome = await post(url, invoice, type);
    options.onWebhook?.({ invoiceId: invoice.id, type, url, ...outcome });
    return outcome;
  }

  async function post(url: string, invoice: MockInvoice, type: string): Promise<WebhookOutcome> {
    const body = JSON.stringify({
      type,
      data: { providerPaymentId: invoice.id, amount: invoice.amount, currency: invoice.currency },
    });
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", ...signWebhook(key, randomId("msg_"), body) },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body?.cancel();
      return { status: response.status };
    } catch (error) {
      return { status: null, error: upstreamFailure(error) };
    }
  }

  function invoicePage(res: ServerResponse, invoice: MockInvoice): void {
    const amount = `${escapeHtml(invoice.amount)} ${escapeHtml(invoice.currency)}`;
    const id = encodeURIComponent(invoice.id);
    const actions =
      invoice.status === "pending"
        ? `<form method="post" action="/invoices/${id}/pay"><button type="submit">Pay</button></form>` +
          `<form method="post" action="/invoices/${id}/fail"><button type="submit">Fail</button></form>`
        : `<p>This invoice is <strong>${escapeHtml(invoice.status)}</strong>.</p>`;
    sendHtml(
      res,
      200,
      `Invoice ${invoice.id}`,
      `<h1>Mock payment</h1><p class="amount">Amount: <strong>${amount}</strong></p>` +
        `<p class="description">${escapeHtml(invoice.description)}</p>` +
        `<p><small>Invoice ${escapeHtml(invoice.id)} — a development stand-in for a payment provider.</small></p>` +
        actions,
    );
  }

  async function settle(
    req: IncomingMessage,
    res: ServerResponse,
    invoice: MockInvoice,
    outcome: "succeeded" | "failed",
    url: URL,
  ): Promise<void> {
    await readBody(req); // the form's (empty) body
    if (invoice.status !== "pending") throw new HttpError(409, `the invoice is already ${invoice.status}`);
    invoice.status = outcome;
    const webhook: WebhookOutcome =
      url.searchParams.get("webhook") === "0"
        ? { status: null, error: "not sent (webhook=0)" }
        : await deliver(invoice);
    if (wantsJson(req)) {
      sendJson(res, 200, { id: invoice.id, status: invoice.status, webhook });
      return;
    }
    const word = outcome === "succeeded" ? "paid" : "failed";
    const delivery =
      webhook.status === null ? `not delivered (${webhook.error ?? "unknown"})` : `HTTP ${webhook.status}`;
    sendHtml(
      res,
      200,
      `Invoice ${word}`,
      `<h1>Invoice ${word}</h1><p>${escapeHtml(invoice.amount)} ${escapeHtml(invoice.currency)}` +
        ` — invoice ${escapeHtml(invoice.id)}.</p><p><small>Webhook: ${escapeHtml(delivery)}</small></p>`,
    );
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://mock.invalid");
    let parts: string[];
    try {
      parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    } catch {
      throw new HttpError(404, "not found");
    }
    if (parts[0] !== "invoices" || parts.length > 3) throw new HttpError(404, "not found");
    if (parts.length === 1) {
      if (req.method !== "POST") throw new HttpError(405, "use POST");
      const input = parseInvoiceRequest(await readBody(req));
      const invoice: MockInvoice = { id: randomId("inv_"), status: "pending", createdAt: new Date(), ...input };
      invoices.set(invoice.id, invoice);
      while (invoices.size > MAX_INVOICES) invoices.delete(invoices.keys().next().value as string);
      const { id, status, amount, currency } = invoice;
      sendJson(res, 201, { id, url: `${base}/invoices/${encodeURIComponent(id)}/page`, status, amount, currency });
      return;
    }
    const invoice = invoices.get(parts[1] ?? "");
    if (!invoice) throw new HttpError(404, "no such invoice");
    const action = parts[2];
    if (action === undefined) {
      if (req.method !== "GET") throw new HttpError(405, "use GET");
      const { id, status, amount, currency, reference } = invoice;
      sendJson(res, 200, { id, status, amount, currency, reference });
    } else if (action === "page") {
      if (req.method !== "GET") throw new HttpError(405, "use GET");
      invoicePage(res, invoice);
    } else if (action === "pay" || action === "fail") {
      if (req.method !== "POST") throw new HttpError(405, "use POST");
      await settle(req, res, invoice, action === "pay" ? "succeeded" : "failed", url);
    } else {
      throw new HttpError(404, "not found");
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof HttpError ? error.message : "internal error";
      if (res.headersSent) res.destroy();
      else if (wantsJson(req)) sendJson(res, status, { error: message });
      else sendHtml(res, status, "Mock payment", `<h1>${status}</h1><p>${escapeHtml(message)}</p>`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  base = (options.publicUrl ?? `http://${shownHost}:${address.port}`).replace(/\/+$/, "");

  return {
    url: base,
    invoices,
    setWebhookUrl(url) {
      webhookUrl = url;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
