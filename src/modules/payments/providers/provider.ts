/**
 * What Tessera needs from a payment provider: an invoice for an amount (the page the customer pays
 * on) and, when asked later, that invoice's state. Webhooks come the other way, to
 * /api/webhook/payments/{provider}, signed the Standard Webhooks way.
 */
import { z } from "zod";
import { httpUrl } from "../../../platform/configSchema.ts";

/**
 * An invoice's id and page as a provider answers them, in the shape the payments table holds (an id
 * of 1–200 characters, a URL of at most 2,000): an answer that could not be stored is the provider's
 * failure, found before anything is written. No control character: a NUL cannot be stored at all.
 */
export const invoiceId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^\P{Cc}+$/u);
export const invoicePage = httpUrl().max(2000);

export interface InvoiceRequest {
  /** Our payment's id: the provider keeps it as the invoice's reference. */
  paymentId: string;
  /** A decimal string, e.g. "12.50". */
  amount: string;
  /** ISO 4217, e.g. "USD". */
  currency: string;
  description: string;
}

export interface Invoice {
  providerPaymentId: string;
  paymentUrl: string;
  /** What the invoice is for, when the provider's answer says (compared with what was asked). */
  amount?: string;
  currency?: string;
}

export interface InvoiceState {
  status: "pending" | "succeeded" | "failed";
  amount: string;
  currency: string;
}

export interface PaymentProvider {
  readonly name: "mock" | "platform";
  createInvoice(request: InvoiceRequest): Promise<Invoice>;
  /** The invoice's state at the provider (the polling job settles pending payments with it). */
  fetchInvoice(providerPaymentId: string): Promise<InvoiceState>;
  close?(): Promise<void>;
}

/** The provider could not be reached or answered something unexpected; the caller may retry later. */
export class ProviderError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProviderError";
  }
}

/**
 * The provider answered that the request itself is wrong for it (HTTP 400, 409 or 422: an amount or
 * a currency it does not take): the same request will be refused again, so nobody should retry it.
 */
export class ProviderRefusal extends ProviderError {
  constructor(message: string) {
    super(message);
    this.name = "ProviderRefusal";
  }
}
