/** The subscriptions module's bot route as data: a customer's subscriptions, credentials included. */
import { z } from "zod";
import { defineRoute, listQuery, listResponse } from "../../platform/http/routeTable.ts";
import { TelegramIdParam } from "../commerce/schemas.ts";
import { PageCursor } from "../commerce/paging.ts";

const Timestamp = z.string().describe("ISO 8601 time.");

export const SubscriptionCredentials = z
  .object({ login: z.string(), password: z.string(), url: z.string() })
  .meta({ id: "SubscriptionCredentials" });

export const CustomerSubscription = z
  .object({
    id: z.uuid(),
    productId: z.uuid(),
    productName: z.string(),
    status: z
      .enum(["pending", "active", "failed"])
      .describe("pending: the provider has not answered yet; failed: every attempt failed."),
    expiresAt: Timestamp.nullable(),
    credentials: SubscriptionCredentials.nullable().describe("Null until the provider has issued it."),
    createdAt: Timestamp,
  })
  .meta({ id: "CustomerSubscription" });

export const listCustomerSubscriptions = defineRoute({
  tags: ["bot"],
  security: "bot",
  method: "get",
  path: "/api/bot/customers/{telegramId}/subscriptions",
  operationId: "listCustomerSubscriptions",
  summary: "A customer's subscriptions with their credentials, newest first by default",
  params: z.object({ telegramId: TelegramIdParam }),
  query: listQuery({
    sort: ["createdAt"],
    defaultSort: "-createdAt",
    maxSortKeys: 1,
    filter: z.object({ status: z.enum(["pending", "active", "failed"]).optional() }),
    cursor: PageCursor,
  }),
  responses: { 200: { description: "A page of subscriptions", schema: listResponse(CustomerSubscription) } },
  errors: ["FORBIDDEN", "RATE_LIMITED", "NOT_FOUND"],
});

export const SUBSCRIPTIONS_API = [listCustomerSubscriptions];
