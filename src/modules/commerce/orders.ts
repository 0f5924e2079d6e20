/** Orders as bots see them: placed, read and paid through the commerce SQL functions. */
import type pg from "pg";
import type { z } from "zod";
import { AppError } from "../../platform/errors.ts";
import type { ListQuery } from "../../platform/http/listQuery.ts";
import { customerId } from "./customers.ts";
import { type PageCursor, pagePlan } from "./paging.ts";
import type { Order } from "./schemas.ts";

type OrderJson = z.input<typeof Order>;

interface OrderRow {
  id: string;
  bot_id: string;
  customer_telegram_id: string;
  status: OrderJson["status"];
  total: string;
  currency: string;
  items: OrderJson["items"];
  created_at: Date;
  paid_at: Date | null;
}

const ORDER_COLUMNS = `
  o.id, o.bot_id, c.telegram_id::text as customer_telegram_id, o.status, o.total::text, o.currency,
  o.created_at, o.paid_at,
  (select coalesce(json_agg(json_build_object(
            'productId', i.product_id, 'name', p.name, 'quantity', i.quantity, 'unitPrice', i.unit_price::text,
            'lineTotal', (i.quantity * i.unit_price)::numeric(18,2)::text) order by p.name, i.product_id), '[]')
   from app_public.order_items i join app_public.products p on p.id = i.product_id
   where i.order_id = o.id) as items`;

const orderJson = (row: OrderRow): OrderJson => ({
  id: row.id,
  botId: row.bot_id,
  customerTelegramId: Number(row.customer_telegram_id),
  status: row.status,
  total: row.total,
  currency: row.currency,
  items: row.items,
  createdAt: row.created_at.toISOString(),
  paidAt: row.paid_at?.toISOString() ?? null,
});

export async function findOrder(db: pg.ClientBase, id: string): Promise<OrderJson> {
  const { rows } = await db.query<OrderRow>(
    `select ${ORDER_COLUMNS}
     from app_public.orders o join app_public.customers c on c.id = o.customer_id where o.id = $1`,
    [id],
  );
  if (!rows[0]) throw new AppError("NOT_FOUND", "No order of this store has this id.");
  return orderJson(rows[0]);
}

export async function createOrder(
  db: pg.ClientBase,
  input: { telegramId: number; items: Array<{ productId: string; quantity: number }> },
): Promise<OrderJson> {
  const { rows } = await db.query<{ id: string }>("select id from app_hidden.bot_create_order($1, $2)", [
    input.telegramId,
    JSON.stringify(input.items),
  ]);
  return findOrder(db, rows[0]!.id);
}

export async function payOrder(db: pg.ClientBase, id: string): Promise<OrderJson> {
  await db.query("select id from app_hidden.bot_pay_order($1)", [id]);
  return findOrder(db, id);
}

export async function customerOrderPage(
  db: pg.ClientBase,
  telegramId: number,
  query: ListQuery<string, { status?: OrderJson["status"] }, PageCursor>,
): Promise<{ items: OrderJson[]; nextCursor: string | null }> {
  const customer = await customerId(db, telegramId);
  // One customer's list: a cursor of another customer's orders is refused, as another list's.
  const plan = pagePlan(
    `orders of ${telegramId}`,
    query,
    { createdAt: { sql: "o.created_at", type: "timestamptz" } },
    "o.id",
  );
  const { rows } = await db.query<OrderRow & { sort_value: string }>(
    `select ${ORDER_COLUMNS}, ${plan.sortValue} as sort_value
     from app_public.orders o join app_public.customers c on c.id = o.customer_id
     where o.customer_id = $1 and ($2::text is null or o.status = $2) ${plan.after(4, 5)}
     ${plan.orderBy}
     limit $3`,
    [customer, query.filter.status ?? null, query.limit + 1, ...(plan.cursorValues ?? [])],
  );
  return plan.pageOf(rows, orderJson);
}
