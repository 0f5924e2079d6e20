/** The client of the mock provider (./mockServer.ts): what Tessera calls when PAYMENT_PROVIDER=mock. */
import { z } from "zod";
import { expectAnswer, requestJson } from "./http.ts";
import {
  type Invoice,
  type InvoiceRequest,
  type InvoiceState,
  invoiceId,
  invoicePage,
  type PaymentProvider,
} from "./provider.ts";

const decimal = z.string().regex(/^\d+(?:\.\d+)?$/);
const currency = z.string().regex(/^[A-Z]{3}$/);
const status = z.enum(["pending", "succeeded", "failed"]);

const created = z.object({ id: invoiceId, url: invoicePage, status, amount: decimal, currency });
const fetched = z.object({ id: z.string(), status, amount: decimal, currency });

export class MockProvider implements PaymentProvider {
  readonly name = "mock" as const;
  readonly #base: string;
  readonly #timeoutMs: number | undefined;

  constructor(baseUrl: string, options: { timeoutMs?: number } = {}) {
    this.#base = baseUrl.replace(/\/+$/, "");
    this.#timeoutMs = options.timeoutMs;
  }

  async createInvoice(request: InvoiceRequest): Promise<Invoice> {
    const response = await requestJson("mock", `${this.#base}/invoices`, {
      method: "POST",
      body: {
        amount: request.amount,
        currency: request.currency,
        description: request.description,
        reference: request.paymentId,
      },
      timeoutMs: this.#timeoutMs,
    });
    const invoice = expectAnswer("mock", "POST /invoices", response, created);
    return {
      providerPaymentId: invoice.id,
      paymentUrl: invoice.url,
      amount: invoice.amount,
      currency: invoice.currency,
    };
  }

  async fetchInvoice(providerPaymentId: string): Promise<InvoiceState> {
    const url = `${this.#base}/invoices/${encodeURIComponent(providerPaymentId)}`;
    const response = await requestJson("mock", url, { method: "GET", timeoutMs: this.#timeoutMs });
    const invoice = expectAnswer("mock", "GET /invoices/{id}", response, fetched);
    return { status: invoice.status, amount: invoice.amount, currency: invoice.currency };
  }
}
