/**
 * The bot API's routes as data (the route table): paths, schemas and answers. The handlers are in
 * routes.ts; the OpenAPI document is built from these specs.
 */
import { z } from "zod";
import { defineRoute, listQuery, listResponse } from "../../platform/http/routeTable.ts";
import {
  Balance,
  Bot,
  Category,
  Currency,
  Customer,
  Money,
  Order,
  Product,
  ReferralAnalytics,
  TelegramId,
  TelegramIdParam,
  Text,
} from "./schemas.ts";
import { PageCursor } from "./paging.ts";

export const bot = { tags: ["bot"], security: "bot" } as const;
/** What bot authentication answers before any route: another tenant's or an unknown bot, too many requests. */
export const BOT_ERRORS = ["FORBIDDEN", "RATE_LIMITED"] as const;
const customerParams = z.object({ telegramId: TelegramIdParam });
export const orderParams = z.object({ id: z.uuid() });

export const upsertCustomer = defineRoute({
  ...bot,
  method: "post",
  path: "/api/bot/customers",
  operationId: "upsertCustomer",
  summary: "Creates the customer with this telegram id, or updates their names",
  description:
    "The referrer is recorded only when the customer is created; an unknown referrer (or oneself) is ignored.",
  body: z.strictObject({
    telegramId: TelegramId,
    username: Text(64).optional(),
    firstName: Text(256).optional(),
    languageCode: z
      .string()
      .regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})?$/, "must be a language code like en or pt-BR")
      .optional(),
    referrerTelegramId: TelegramId.optional(),
  }),
  responses: {
    201: { description: "A new customer", schema: Customer },
    200: { description: "The existing customer, names updated", schema: Customer },
  },
  errors: [...BOT_ERRORS],
});

export const getCustomer = defineRoute({
  ...bot,
  method: "get",
  path: "/api/bot/customers/{telegramId}",
  operationId: "getCustomer",
  summary: "A customer of the store",
  params: customerParams,
  responses: { 200: { description: "The customer", schema: Customer } },
  errors: [...BOT_ERRORS, "NOT_FOUND"],
});

export const getBalance = defineRoute({
  ...bot,
  method: "get",
  path: "/api/bot/customers/{telegramId}/balance",
  operationId: "getBalance",
  summary: "A customer's balance (the sum of their ledger)",
  params: customerParams,
  query: z.object({ currency: Currency.optional().describe("Default: the store's currency.") }),
  responses: { 200: { description: "The balance", schema: Balance } },
  errors: [...BOT_ERRORS, "NOT_FOUND"],
});

export const listCustomerOrders = defineRoute({
  ...bot,
  method: "get",
  path: "/api/bot/customers/{telegramId}/orders",
  operationId: "listCustomerOrders",
  summary: "A customer's orders, newest first by default",
  params: customerParams,
  query: listQuery({
    sort: ["createdAt"],
    defaultSort: "-createdAt",
    maxSortKeys: 1,
    filter: z.object({ status: z.enum(["pending", "paid", "fulfilled", "cancelled", "refunded"]).optional() }),
    cursor: PageCursor,
  }),
  responses: { 200: { description: "A page of orders", schema: listResponse(Order) } },
  errors: [...BOT_ERRORS, "NOT_FOUND"],
});

export const getReferralAnalytics = defineRoute({
  ...bot,
  method: "get",
  path: "/api/bot/customers/{telegramId}/referral-analytics",
  operationId: "getReferralAnalytics",
  summary: "Whom a customer invited, and what it earned them (in the store's currency)",
  params: customerParams,
  responses: { 200: { description: "The customer's referral figures", schema: ReferralAnalytics } },
  errors: [...BOT_ERRORS, "NOT_FOUND"],
});

export const createBot = defineRoute({
  ...bot,
  method: "post",
  path: "/api/bot/bots",
  operationId: "createBot",
  summary: "Registers a bot owned by a customer",
  body: z.strictObject({
    ownerTelegramId: TelegramId,
    name: Text(100),
    username: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_]{3,31}$/, "must be a Telegram username")
      .optional(),
    referralPercent: z.number().min(0).max(100).multipleOf(0.01).optional(),
  }),
  responses: { 201: { description: "The new bot", schema: Bot } },
  errors: [...BOT_ERRORS, "NOT_FOUND", "CONFLICT"],
});

export const listCategories = defineRoute({
  ...bot,
  method: "get",
  path: "/api/bot/catalog/categories",
  operationId: "listCategories",
  summary: "The store's active categories as a tree, by position",
  responses: { 200: { description: "The tree", schema: z.object({ categories: z.array(Category) }) } },
  errors: [...BOT_ERRORS],
});

export const listProducts = defineRoute({
  ...bot,
  method: "get",
  path: "/api/bot/catalog/products",
  operationId: "listProducts",
  summary: "The store's active products",
  query: listQuery({
    sort: ["createdAt", "name", "price"],
    defaultSort: "createdAt",
    maxSortKeys: 1,
    filter: z.object({
      category: z.uuid().optional().describe("A category and everything under it."),
      kind: z.enum(["goods", "subscription"]).optional(),
      price: z.strictObject({ gte: Money.optional(), lte: Money.optional() }).optional(),
      inStock: z
        .enum(["true", "false"])
        .transform((value) => value === "true")
        .optional(),
      text: Text(100).optional().describe("Words in the name or the description."),
    }),
    cursor: PageCursor,
  }),
  responses: { 200: { description: "A page of products", schema: listResponse(Product) } },
  errors: [...BOT_ERRORS],
});

export const createOrder = defineRoute({
  ...bot,
  method: "post",
  path: "/api/bot/orders",
  operationId: "createOrder",
  summary: "Places a pending order through this bot; prices are captured now",
  body: z.strictObject({
    telegramId: TelegramId,
    items: z
      .array(z.strictObject({ productId: z.uuid(), quantity: z.number().min(1).max(10_000).int() }))
      .min(1)
      .max(100)
      .refine(
        // An id is the same product in either case.
        (items) => new Set(items.map((item) => item.productId.toLowerCase())).size === items.length,
        "names each product once (give the quantity instead)",
      ),
  }),
  responses: { 201: { description: "The order", schema: Order } },
  errors: [...BOT_ERRORS, "NOT_FOUND", "OUT_OF_STOCK"],
});

export const getOrder = defineRoute({
  ...bot,
  method: "get",
  path: "/api/bot/orders/{id}",
  operationId: "getOrder",
  summary: "An order of the store",
  params: orderParams,
  responses: { 200: { description: "The order", schema: Order } },
  errors: [...BOT_ERRORS, "NOT_FOUND"],
});

export const COMMERCE_API = [
  upsertCustomer,
  getCustomer,
  getBalance,
  listCustomerOrders,
  getReferralAnalytics,
  createBot,
  listCategories,
  listProducts,
  createOrder,
  getOrder,
];
