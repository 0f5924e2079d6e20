/**
 * The demo store: a category tree, products (one with little stock, one subscription), a demo bot
 * owned by a customer, a second customer invited by the first, a funded balance — and the banner
 * lines with the development service key, the bot id and a curl line that works as printed.
 */
import type { SeedContext } from "../../platform/modules.ts";

const CATEGORIES = [
  { key: "merch", name: "Merch", parent: null, position: 1 },
  { key: "shirts", name: "T-shirts", parent: "merch", position: 1 },
  { key: "stickers", name: "Stickers", parent: "merch", position: 2 },
  { key: "digital", name: "Digital", parent: null, position: 2 },
] as const;

const PRODUCTS = [
  { name: "Tessera T-shirt", category: "shirts", price: "25.00", stock: 50, kind: "goods" },
  { name: "Limited hoodie", category: "merch", price: "60.00", stock: 3, kind: "goods" },
  { name: "Sticker pack", category: "stickers", price: "4.50", stock: null, kind: "goods" },
  { name: "Premium (1 month)", category: "digital", price: "9.99", stock: null, kind: "subscription" },
] as const;

/** Telegram ids of the demo customers: the bot's owner (also the referrer) and a referred buyer. */
export const DEMO_OWNER_TELEGRAM_ID = 100001;
export const DEMO_BUYER_TELEGRAM_ID = 100002;

export function seedDemoStore(serviceKey: string | undefined) {
  return async ({ client, tenant, banner }: SeedContext): Promise<void> => {
    if (!tenant) throw new Error("the demo store needs the demo tenant");
    const categoryIds = new Map<string, string>();
    for (const category of CATEGORIES) {
      const parent = category.parent ? categoryIds.get(category.parent)! : null;
      const { rows } = await client.query<{ id: string }>(
        `with found as (select id from app_public.categories where tenant_id = $1 and name = $2),
              made as (insert into app_public.categories (tenant_id, parent_id, name, position)
                       select $1, $3, $2, $4 where not exists (select 1 from found) returning id)
         select id from found union all select id from made`,
        [tenant.id, category.name, parent, category.position],
      );
      categoryIds.set(category.key, rows[0]!.id);
    }
    for (const product of PRODUCTS) {
      await client.query(
        `insert into app_public.products (tenant_id, category_id, name, description, price, currency, stock, kind)
         select $1, $2, $3, $4, $5, 'USD', $6, $7
         where not exists (select 1 from app_public.products where tenant_id = $1 and name = $3)`,
        [
          tenant.id,
          categoryIds.get(product.category),
          product.name,
          `Demo product: ${product.name}.`,
          product.price,
          product.stock,
          product.kind,
        ],
      );
    }
    const customer = async (telegramId: number, firstName: string, referrer: string | null) =>
      (
        await client.query<{ id: string }>(
          `insert into app_public.customers (tenant_id, telegram_id, first_name, language_code, referred_by)
           values ($1, $2, $3, 'en', $4)
           on conflict (tenant_id, telegram_id) do update set first_name = excluded.first_name returning id`,
          [tenant.id, telegramId, firstName, referrer],
        )
      ).rows[0]!.id;
    const owner = await customer(DEMO_OWNER_TELEGRAM_ID, "Olga", null);
    const buyer = await customer(DEMO_BUYER_TELEGRAM_ID, "Boris", owner);
    const existingBot = await client.query<{ id: string }>(
      "select id from app_public.bots where tenant_id = $1 and name = 'Demo shop bot'",
      [tenant.id],
    );
    const botId =
      existingBot.rows[0]?.id ??
      (
        await client.query<{ id: string }>(
          `insert into app_public.bots (tenant_id, owner_id, name, telegram_username, referral_percent)
           values ($1, $2, 'Demo shop bot', 'tessera_demo_bot', 10) returning id`,
          [tenant.id, owner],
        )
      ).rows[0]!.id;
    // Funded from the store's account, as adjustCustomerBalance does: two entries.
    await client.query(
      `insert into app_public.transactions (tenant_id, customer_id, type, amount, currency, reason)
       select $1, account.customer_id, 'adjustment', account.amount, 'USD', 'Demo funds'
       from (values ($2::uuid, 100), (null, -100)) account(customer_id, amount)
       where not exists (select 1 from app_public.transactions where tenant_id = $1 and customer_id = $2)`,
      [tenant.id, buyer],
    );
    if (!serviceKey) return;
    banner.push(
      `bot API key ${serviceKey}  bot id ${botId}  (customers ${DEMO_OWNER_TELEGRAM_ID}, ${DEMO_BUYER_TELEGRAM_ID})`,
      `curl -H 'X-API-KEY: ${serviceKey}' -H 'X-BOT-ID: ${botId}' {base}/api/bot/catalog/products`,
    );
  };
}
