/**
 * The payments routes as data: bots pay orders and ask for deposits, read their payments and
 * events and set their webhook; providers deliver signed webhooks. Handlers are in routes.ts.
 */
import { z } from "zod";
import { defineRoute } from "../../platform/http/routeTable.ts";
import { BOT_ERRORS, bot, orderParams } from "../commerce/api.ts";
import { Order, TelegramId } from "../commerce/schemas.ts";
import { BotEvent, BotWebhook, PaymentAnswer, ProviderWebhook } from "./schemas.ts";

/** A positive amount with at most 2 decimals, below 10,000,000,000. */
const PositiveMoney = z
  .string()
  .regex(/^[0-9]{1,10}(\.[0-9]{1,2})?$/, "must be a decimal string under 10000000000, with at most 2 decimals")
  .refine((value) => Number(value) > 0, "must be more than zero");

export const payOrder = defineRoute({
  ...bot,
  method: "post",
  path: "/api/bot/orders/{id}/pay",
  operationId: "payOrder",
  summary: "Pays a pending order from the customer's balance, or starts a payment at the provider",
  description:
    "`balance`: stock, the purchase, the referrer's payout and the status change commit together or not at all " +
    "(200, the paid order). `provider`: the order's stock is held and an invoice created at the payment " +
    "provider (201, the payment with its URL); the provider's webhook settles it. Asking again while that " +
    "payment is pending answers that payment again (201, the same id).",
  params: orderParams,
  body: z.strictObject({ method: z.enum(["balance", "provider"]) }),
  responses: {
    200: { description: "balance: the paid order", schema: Order },
    201: { description: "provider: the payment (the one already in progress, if any)", schema: PaymentAnswer },
  },
  errors: [
    ...BOT_ERRORS,
    "NOT_FOUND",
    "CONFLICT",
    "OUT_OF_STOCK",
    "INSUFFICIENT_BALANCE",
    "PAYMENT_PROVIDER_UNAVAILABLE",
    "PAYMENT_PROVIDER_REFUSED",
  ],
});

export const createDeposit = defineRoute({
  ...bot,
  method: "post",
  path: "/api/bot/deposits",
  operationId: "createDeposit",
  summary: "Starts a deposit to a customer's balance at the payment provider",
  description: "The amount is in the store's currency; the provider's webhook credits the balance.",
  body: z.strictObject({ telegramId: TelegramId, amount: PositiveMoney }),
  responses: { 201: { description: "The new payment", schema: PaymentAnswer } },
  errors: [...BOT_ERRORS, "NOT_FOUND", "PAYMENT_PROVIDER_UNAVAILABLE", "PAYMENT_PROVIDER_REFUSED"],
});

export const getPayment = defineRoute({
  ...bot,
  method: "get",
  path: "/api/bot/payments/{id}",
  operationId: "getPayment",
  summary: "A payment this bot started",
  params: z.object({ id: z.uuid() }),
  responses: { 200: { description: "The payment", schema: PaymentAnswer } },
  errors: [...BOT_ERRORS, "NOT_FOUND"],
});

export const listBotEvents = defineRoute({
  ...bot,
  method: "get",
  path: "/api/bot/events",
  operationId: "listBotEvents",
  summary: "What happened to this bot's payments since `cursor`, oldest first",
  description:
    "Poll with the last `nextCursor`; it is the position to continue from (the same one when nothing is new).",
  query: z.object({
    cursor: z
      .string()
      .regex(/^(0|[1-9][0-9]{0,17})$/, "must be a cursor this route answered")
      .optional(),
    // Decimal digits only, as every list route reads them ("0x10" or "1e1" is not a page size).
    limit: z
      .string()
      .regex(/^[0-9]{1,3}$/, "must be a whole number from 1 to 100")
      .pipe(
        z.coerce
          .number<string>()
          .min(1, "must be a whole number from 1 to 100")
          .max(100, "must be a whole number from 1 to 100"),
      )
      .default(50)
      // Documented as the number it is (a query parameter's digits), as the other list routes do.
      .meta({
        type: "integer",
        minimum: 1,
        maximum: 100,
        pattern: undefined,
        description: "Page size: a whole number from 1 to 100 (digits only).",
      }),
  }),
  responses: {
    200: {
      description: "Events after the cursor",
      schema: z.object({ items: z.array(BotEvent), nextCursor: z.string() }).meta({ id: "BotEventPage" }),
    },
  },
  errors: [...BOT_ERRORS],
});

export const setBotWebhook = defineRoute({
  ...bot,
  method: "put",
  path: "/api/bot/webhook",
  operationId: "setBotWebhook",
  summary: "Sets (or, with null, removes) the URL this bot's events are pushed to",
  description:
    "Events are POSTed there signed the Standard Webhooks way with the secret in the answer, retried with " +
    "backoff until a 2xx answer. In stage and prod the URL must resolve to public addresses only.",
  body: z.strictObject({
    url: z
      .string()
      .max(2000)
      // The URL standard drops a control character at either end and a tab or newline anywhere: the
      // URL stored would not be the one sent.
      .regex(/^\P{Cc}*$/u, "must not contain control characters")
      // A scheme is case-insensitive (HTTPS://… is an https URL, stored as https://…); what URL
      // cannot read (a port past 65535, a host with a bidirectional control) is not a URL; a user or
      // password would be sent to the bot's server in every push's Authorization, so neither is taken.
      .regex(/^[Hh][Tt][Tt][Pp][Ss]?:\/\/[^\s]+$/, "must be an http(s) URL")
      // Port 0 parses but can be connected to by no one; nor can a host with an empty label, which is
      // what the URL standard leaves of one it maps to nothing (a soft hyphen: "https://\u00ad.test").
      .refine((value) => {
        const url = URL.parse(value);
        return url !== null && url.port !== "0" && url.hostname !== "" && !/^\.|\.\./.test(url.hostname);
      }, "must be a URL this server can call (host and port)")
      .refine((value) => {
        const url = URL.parse(value);
        return url === null || (url.username === "" && url.password === "");
      }, "must be a URL without user or password")
      // Stored as the URL standard writes it (scheme and host in lower case, IDN hosts in punycode).
      .transform((value) => URL.parse(value)?.href ?? value)
      .nullable(),
  }),
  responses: { 200: { description: "The webhook and its signing secret", schema: BotWebhook } },
  errors: [...BOT_ERRORS],
});

export const receivePaymentWebhook = defineRoute({
  tags: ["webhooks"],
  method: "post",
  path: "/api/webhook/payments/{provider}",
  operationId: "receivePaymentWebhook",
  summary: "A payment provider's signed notification",
  description:
    "Signed the Standard Webhooks way (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 " +
    "HMAC-SHA256 of id.timestamp.body>` under PAYMENT_WEBHOOK_SECRET), at most 5 minutes old. A webhook-id " +
    "already processed answers 200 and changes nothing.",
  params: z.object({ provider: z.enum(["mock", "platform"]) }),
  body: { content: { "application/json": ProviderWebhook }, validate: false, checksMediaType: true },
  responses: {
    200: {
      description: "Processed (or a duplicate)",
      schema: z
        .object({ outcome: z.enum(["succeeded", "failed", "unchanged", "duplicate"]) })
        .meta({ id: "WebhookOutcome" }),
    },
  },
  errors: ["INVALID_SIGNATURE", "NOT_FOUND", "PAYMENT_AMOUNT_MISMATCH", "PAYLOAD_TOO_LARGE"],
});

export const PAYMENTS_API = [payOrder, createDeposit, getPayment, listBotEvents, setBotWebhook, receivePaymentWebhook];
