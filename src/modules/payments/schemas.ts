/** The JSON shapes of the payments routes (named schemas in the OpenAPI document). */
import { z } from "zod";
import { Currency, Money } from "../commerce/schemas.ts";

const Timestamp = z.string().describe("ISO 8601 time.");

export const Payment = z
  .object({
    id: z.uuid(),
    kind: z.enum(["order", "deposit"]),
    orderId: z.uuid().nullable(),
    provider: z.enum(["mock", "platform"]),
    providerPaymentId: z.string().nullable().describe("The provider's invoice id; null until the provider answered."),
    status: z.enum(["pending", "succeeded", "failed", "expired"]),
    paymentUrl: z.string().nullable().describe("Where the customer pays; null until the provider answered."),
    amount: Money,
    currency: Currency,
    createdAt: Timestamp,
    paidAt: Timestamp.nullable(),
  })
  .meta({ id: "Payment" });

export const PaymentAnswer = z.object({ payment: Payment }).meta({ id: "PaymentAnswer" });

export const BotEvent = z
  .object({
    id: z.string().describe("Increasing; pass the last one seen as `cursor`."),
    type: z.enum(["payment.succeeded", "payment.failed", "payment.expired"]),
    data: z.record(z.string(), z.unknown()),
    createdAt: Timestamp,
  })
  .meta({ id: "BotEvent" });

export const BotWebhook = z
  .object({
    url: z.string().nullable(),
    secret: z
      .string()
      .nullable()
      .describe("The `whsec_` secret the pushes are signed with (Standard Webhooks); null without a URL."),
  })
  .meta({ id: "BotWebhook" });

export const ProviderWebhook = z
  .strictObject({
    type: z.enum(["payment.succeeded", "payment.failed"]),
    data: z.strictObject({
      providerPaymentId: z.string().min(1).max(200),
      amount: Money,
      currency: Currency,
    }),
  })
  .meta({ id: "ProviderWebhook" });
