/**
 * The platform payment system's client. It signs in with the account's login, password and a TOTP
 * code of its 2FA key (`POST /api/auth/login` → `{token}`), keeps the session token in memory and
 * sends it as a Bearer token. A 401 on any call means the session ended: it signs in again once and
 * retries that call; calls that meet a 401 together share one sign-in.
 *
 *   POST /api/payments       {amount, currency, description, reference} → {id, paymentUrl}
 *   GET  /api/payments/{id}  → {id, status: pending|paid|failed|cancelled, amount, currency}
 */
import { generate } from "otplib";
import { z } from "zod";
import type { PlatformProviderConfig } from "../config.ts";
import { expectAnswer, type ProviderResponse, requestJson } from "./http.ts";
import {
  type Invoice,
  type InvoiceRequest,
  type InvoiceState,
  invoiceId,
  invoicePage,
  type PaymentProvider,
  ProviderError,
} from "./provider.ts";

const NAME = "platform";
const amount = z.union([z.string().regex(/^\d+(?:\.\d+)?$/), z.number().nonnegative()]).transform(String);
const currency = z
  .string()
  .regex(/^[A-Za-z]{3}$/)
  .transform((value) => value.toUpperCase());

const loginAnswer = z.object({ token: z.string().min(1).max(4096) });
const created = z.object({
  id: z.union([invoiceId, z.number().int()]).transform(String),
  paymentUrl: invoicePage,
});
const fetched = z.object({
  status: z.enum(["pending", "paid", "failed", "cancelled"]),
  amount,
  currency,
});

const STATUS: Record<z.infer<typeof fetched>["status"], InvoiceState["status"]> = {
  pending: "pending",
  paid: "succeeded",
  failed: "failed",
  cancelled: "failed",
};

export interface PlatformProviderOptions {
  /** Per request; default 10 s. */
  timeoutMs?: number;
}

export class PlatformProvider implements PaymentProvider {
  readonly name = "platform" as const;
  readonly #config: PlatformProviderConfig;
  readonly #base: string;
  readonly #timeoutMs: number | undefined;
  #token: string | undefined;
  #signingIn: Promise<string> | undefined;

  constructor(config: PlatformProviderConfig, options: PlatformProviderOptions = {}) {
    this.#config = config;
    this.#base = config.baseUrl.replace(/\/+$/, "");
    this.#timeoutMs = options.timeoutMs;
  }

  async createInvoice(request: InvoiceRequest): Promise<Invoice> {
    const body = {
      amount: request.amount,
      currency: request.currency,
      description: request.description,
      reference: request.paymentId,
    };
    const response = await this.#authorized("POST", "/api/payments", body);
    const invoice = expectAnswer(NAME, "POST /api/payments", response, created);
    return { providerPaymentId: invoice.id, paymentUrl: invoice.paymentUrl };
  }

  async fetchInvoice(providerPaymentId: string): Promise<InvoiceState> {
    const response = await this.#authorized("GET", `/api/payments/${encodeURIComponent(providerPaymentId)}`);
    const invoice = expectAnswer(NAME, "GET /api/payments/{id}", response, fetched);
    return { status: STATUS[invoice.status], amount: invoice.amount, currency: invoice.currency };
  }

  async close(): Promise<void> {
    this.#token = undefined;
  }

  /** One call with the session's token; after a 401, one new sign-in and one retry. */
  async #authorized(method: "GET" | "POST", path: string, body?: unknown): Promise<ProviderResponse> {
    const send = (token: string) =>
      requestJson(NAME, this.#base + path, {
        method,
        body,
        headers: { authorization: `Bearer ${token}` },
        timeoutMs: this.#timeoutMs,
      });
    const token = this.#token ?? (await this.#signIn());
    const response = await send(token);
    if (response.status !== 401) return response;
    if (this.#token === token) this.#token = undefined; // that session is over
    // Another call may have signed in again since this one took its token.
    const fresh = this.#token !== undefined && this.#token !== token ? this.#token : await this.#signIn();
    return send(fresh);
  }

  /** The one sign-in in flight, shared by every call that needs it. */
  #signIn(): Promise<string> {
    this.#signingIn ??= this.#login().finally(() => {
      this.#signingIn = undefined;
    });
    return this.#signingIn;
  }

  async #login(): Promise<string> {
    const { login, password, twoFactorKey } = this.#config;
    let totp: string;
    try {
      totp = await generate({ secret: twoFactorKey.replace(/=+$/, "").toUpperCase() });
    } catch (error) {
      throw new ProviderError(`${NAME}: the 2FA key does not give TOTP codes`, { cause: error });
    }
    const response = await requestJson(NAME, `${this.#base}/api/auth/login`, {
      method: "POST",
      body: { login, password, totp },
      timeoutMs: this.#timeoutMs,
    });
    if (response.status === 401 || response.status === 403)
      throw new ProviderError(
        `${NAME}: the login was refused (HTTP ${response.status}); check the login, password and 2FA key`,
      );
    const { token } = expectAnswer(NAME, "POST /api/auth/login", response, loginAnswer);
    this.#token = token;
    return token;
  }
}
