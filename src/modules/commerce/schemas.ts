/**
 * The JSON shapes of the bot API (camelCase; money as decimal strings like "12.50", so no amount
 * is ever rounded by a JSON parser). Shared by the route specs, the handlers and the OpenAPI document.
 */
import { z } from "zod";

export const Money = z
  .string()
  .regex(/^-?[0-9]{1,16}(\.[0-9]{1,2})?$/, "must be a decimal string with at most 2 decimals, like 12.50")
  .describe("An amount as a decimal string, like 12.50.");
export const Currency = z
  .string()
  .regex(/^[A-Z]{3}$/, "must be an ISO 4217 code like USD")
  .describe("ISO 4217 code.");
/**
 * Text a person typed: well-formed Unicode (no lone surrogates, which would be stored as U+FFFD), no
 * NUL (PostgreSQL text cannot hold it), not only spaces.
 */
export const Text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    // With the u flag a surrogate pair is one code point: only a lone surrogate is \p{Cs}.
    .refine((text) => !/\p{Cs}/u.test(text), "must be well-formed Unicode (no lone surrogates)")
    .refine((text) => !text.includes("\u0000"), "must not contain NUL characters")
    .refine((text) => text.trim().length > 0, "must not be blank");

/** Telegram user ids are positive integers below 2^53. */
export const TelegramId = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
export const TelegramIdParam = z
  .string()
  .regex(/^[1-9][0-9]{0,15}$/, "must be a telegram id (a positive whole number)")
  .transform(Number)
  .refine((id) => id <= Number.MAX_SAFE_INTEGER, "must be below 2^53");
const Timestamp = z.string().describe("ISO 8601 time.");
const Uuid = z.uuid();

export const Customer = z
  .object({
    id: Uuid,
    telegramId: TelegramId,
    username: z.string().nullable(),
    firstName: z.string().nullable(),
    languageCode: z.string().nullable(),
    referrerTelegramId: TelegramId.nullable(),
    createdAt: Timestamp,
  })
  .meta({ id: "Customer" });

export const Balance = z.object({ balance: Money, currency: Currency }).meta({ id: "Balance" });

export const Bot = z
  .object({
    id: Uuid,
    ownerTelegramId: TelegramId.nullable().describe("The customer who owns it; null: the store's own bot."),
    name: z.string(),
    username: z.string().nullable(),
    status: z.enum(["active", "disabled"]),
    referralPercent: z.string().describe("0–100, as a decimal string."),
    createdAt: Timestamp,
  })
  .meta({ id: "Bot" });

export interface CategoryNode {
  id: string;
  name: string;
  position: number;
  children: CategoryNode[];
}
export const Category: z.ZodType<CategoryNode> = z
  .object({
    id: Uuid,
    name: z.string(),
    position: z.number().int(),
    get children() {
      return z.array(Category);
    },
  })
  .meta({ id: "Category" });

export const Product = z
  .object({
    id: Uuid,
    categoryId: Uuid.nullable(),
    name: z.string(),
    description: z.string().nullable(),
    price: Money,
    currency: Currency,
    stock: z.number().int().nullable().describe("Units left; null: unlimited."),
    kind: z.enum(["goods", "subscription"]),
    imageUrl: z.string().nullable().describe("/api/images/<id>, or null."),
    createdAt: Timestamp,
  })
  .meta({ id: "Product" });

export const OrderItem = z
  .object({
    productId: Uuid,
    name: z.string(),
    quantity: z.number().int().min(1),
    unitPrice: Money,
    lineTotal: Money,
  })
  .meta({ id: "OrderItem" });

export const Order = z
  .object({
    id: Uuid,
    botId: Uuid,
    customerTelegramId: TelegramId,
    status: z.enum(["pending", "paid", "fulfilled", "cancelled", "refunded"]),
    total: Money,
    currency: Currency,
    items: z.array(OrderItem),
    createdAt: Timestamp,
    paidAt: Timestamp.nullable(),
  })
  .meta({ id: "Order" });

export const Payout = z
  .object({
    id: Uuid,
    amount: Money,
    currency: Currency,
    botId: Uuid.nullable(),
    orderId: Uuid.nullable(),
    createdAt: Timestamp,
  })
  .meta({ id: "Payout" });

export const ReferralAnalytics = z
  .object({
    referralsCount: z.number().int(),
    payingReferralsCount: z.number().int(),
    totalEarned: Money,
    currency: Currency,
    earnedPerBot: z.array(z.object({ botId: Uuid, botName: z.string(), earned: Money })),
    recentPayouts: z.array(Payout),
  })
  .meta({ id: "ReferralAnalytics" });
