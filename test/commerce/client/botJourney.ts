/**
 * A bot written against the client generated from openapi.json (openapi-typescript types,
 * openapi-fetch calls): if the document stops describing what the bot needs, this file stops
 * type-checking (`npm run typecheck`, and test/commerce/client.test.ts).
 */
import createClient from "openapi-fetch";
import type { components, paths } from "../../../src/generated/openapi.ts";

export type BotClient = ReturnType<typeof createClient<paths>>;
type Order = components["schemas"]["Order"];

export function botClient(baseUrl: string, apiKey: string, botId: string): BotClient {
  return createClient<paths>({ baseUrl, headers: { "X-API-KEY": apiKey, "X-BOT-ID": botId } });
}

/** Registers the customer, finds the cheapest product in stock and pays one of it from the balance. */
export async function buyCheapest(client: BotClient, telegramId: number, referrerTelegramId?: number): Promise<Order> {
  const customer = await client.POST("/api/bot/customers", { body: { telegramId, referrerTelegramId } });
  if (!customer.data) throw new Error(`customer: ${JSON.stringify(customer.error)}`);
  const page = await client.GET("/api/bot/catalog/products", {
    params: { query: { sort: "price", limit: 1, "filter[inStock]": "true" } },
  });
  const product = page.data?.items[0];
  if (!product) throw new Error(`products: ${JSON.stringify(page.error)}`);
  const order = await client.POST("/api/bot/orders", {
    body: { telegramId: customer.data.telegramId, items: [{ productId: product.id, quantity: 1 }] },
  });
  if (!order.data) throw new Error(`order: ${JSON.stringify(order.error)}`);
  const paid = await client.POST("/api/bot/orders/{id}/pay", {
    params: { path: { id: order.data.id } },
    body: { method: "balance" },
  });
  // 200 is the paid order (balance); 201 a provider payment, which this journey does not start.
  if (!paid.data || "payment" in paid.data) throw new Error(`pay: ${JSON.stringify(paid.error ?? paid.data)}`);
  return paid.data;
}

/** The customer's balance, as the bot shows it. */
export async function balanceOf(client: BotClient, telegramId: number): Promise<string> {
  const { data, error } = await client.GET("/api/bot/customers/{telegramId}/balance", {
    params: { path: { telegramId: String(telegramId) } },
  });
  if (!data) throw new Error(`balance: ${JSON.stringify(error)}`);
  return data.balance;
}
