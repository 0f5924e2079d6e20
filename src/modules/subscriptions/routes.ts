/**
 * The bot route's handler: the customer's subscriptions read as the bot (RLS: its tenant), their
 * sealed credentials through app_hidden.bot_subscription_credentials, opened here.
 */
import type pg from "pg";
import type { z } from "zod";
import type { SecretBox } from "../../platform/auth/secrets.ts";
import type { Implementation } from "../../platform/http/routeSpec.ts";
import { implement } from "../../platform/http/routeTable.ts";
import type { ListQuery } from "../../platform/http/listQuery.ts";
import type { Logger } from "../../platform/logger.ts";
import { botOf, type BotRunner } from "../commerce/botAuth.ts";
import { customerId } from "../commerce/customers.ts";
import { type PageCursor, pagePlan } from "../commerce/paging.ts";
import { type CustomerSubscription, listCustomerSubscriptions } from "./api.ts";
import { type Credentials, openCredentials } from "./credentials.ts";

type SubscriptionJson = z.input<typeof CustomerSubscription>;

interface SubscriptionRow {
  id: string;
  product_id: string;
  product_name: string;
  status: SubscriptionJson["status"];
  expires_at: Date | null;
  created_at: Date;
  sort_value: string;
}

export async function customerSubscriptionPage(
  db: pg.ClientBase,
  telegramId: number,
  query: ListQuery<string, { status?: SubscriptionJson["status"] }, PageCursor>,
  open: (id: string, sealed: string) => Credentials | null,
): Promise<{ items: SubscriptionJson[]; nextCursor: string | null }> {
  const customer = await customerId(db, telegramId);
  // One customer's list: a cursor of another customer's subscriptions is refused, as another list's.
  const plan = pagePlan(
    `subscriptions of ${telegramId}`,
    query,
    { createdAt: { sql: "s.created_at", type: "timestamptz" } },
    "s.id",
  );
  const { rows } = await db.query<SubscriptionRow>(
    `select s.id, s.product_id, p.name as product_name, s.status, s.expires_at, s.created_at,
            ${plan.sortValue} as sort_value
     from app_public.subscriptions s join app_public.products p on p.id = s.product_id
     where s.customer_id = $1 and ($2::text is null or s.status = $2) ${plan.after(4, 5)}
     ${plan.orderBy}
     limit $3`,
    [customer, query.filter.status ?? null, query.limit + 1, ...(plan.cursorValues ?? [])],
  );
  const page = rows.slice(0, query.limit).map((row) => row.id);
  const sealed = await db.query<{ subscription_id: string; sealed: string }>(
    "select subscription_id, sealed from app_hidden.bot_subscription_credentials($1::uuid[])",
    [page],
  );
  const credentials = new Map(sealed.rows.map((row) => [row.subscription_id, open(row.subscription_id, row.sealed)]));
  return plan.pageOf(rows, (row) => ({
    id: row.id,
    productId: row.product_id,
    productName: row.product_name,
    status: row.status,
    expiresAt: row.expires_at?.toISOString() ?? null,
    credentials: credentials.get(row.id) ?? null,
    createdAt: row.created_at.toISOString(),
  }));
}

export function subscriptionImplementations(asBot: BotRunner, box: SecretBox, logger: Logger): Implementation[] {
  // A value that no longer opens (TOTP_ENCODE_SECRET changed) is logged and answered as null.
  const open = (id: string, sealed: string): Credentials | null => {
    try {
      return openCredentials(box, sealed);
    } catch (error) {
      logger.error({ err: error, subscriptionId: id }, "subscription credentials do not open");
      return null;
    }
  };
  return [
    implement(listCustomerSubscriptions, async ({ params, query, req }) => ({
      status: 200,
      body: await asBot(botOf(req), (db) => customerSubscriptionPage(db, params.telegramId, query, open)),
    })),
  ];
}
