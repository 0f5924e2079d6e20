/** Customers, balances, referral figures and bots, read and written as the bot (RLS: its tenant). */
import type pg from "pg";
import { AppError } from "../../platform/errors.ts";
import type { z } from "zod";
import type { Bot, Customer, ReferralAnalytics } from "./schemas.ts";

const CUSTOMER_SQL = `
  select c.id, c.telegram_id::text, c.username, c.first_name, c.language_code,
         r.telegram_id::text as referrer_telegram_id, c.created_at
  from app_public.customers c left join app_public.customers r on r.id = c.referred_by`;

interface CustomerRow {
  id: string;
  telegram_id: string;
  username: string | null;
  first_name: string | null;
  language_code: string | null;
  referrer_telegram_id: string | null;
  created_at: Date;
}

const customerJson = (row: CustomerRow): z.input<typeof Customer> => ({
  id: row.id,
  telegramId: Number(row.telegram_id),
  username: row.username,
  firstName: row.first_name,
  languageCode: row.language_code,
  referrerTelegramId: row.referrer_telegram_id === null ? null : Number(row.referrer_telegram_id),
  createdAt: row.created_at.toISOString(),
});

export async function upsertCustomer(
  db: pg.ClientBase,
  input: {
    telegramId: number;
    username?: string;
    firstName?: string;
    languageCode?: string;
    referrerTelegramId?: number;
  },
): Promise<{ created: boolean; customer: z.input<typeof Customer> }> {
  const { rows } = await db.query<{ customer_id: string; created: boolean }>(
    "select customer_id, created from app_hidden.bot_upsert_customer($1, $2, $3, $4, $5)",
    [input.telegramId, input.username, input.firstName, input.languageCode, input.referrerTelegramId],
  );
  const { customer_id, created } = rows[0]!;
  const customer = await db.query<CustomerRow>(`${CUSTOMER_SQL} where c.id = $1`, [customer_id]);
  return { created, customer: customerJson(customer.rows[0]!) };
}

const noSuchCustomer = () => new AppError("NOT_FOUND", "No customer of this store has this telegram id.");

export async function findCustomer(db: pg.ClientBase, telegramId: number): Promise<z.input<typeof Customer>> {
  const { rows } = await db.query<CustomerRow>(`${CUSTOMER_SQL} where c.telegram_id = $1`, [telegramId]);
  if (!rows[0]) throw noSuchCustomer();
  return customerJson(rows[0]);
}

/** The customer's id, or NOT_FOUND (the id alone: no need for the referrer's join). */
export async function customerId(db: pg.ClientBase, telegramId: number): Promise<string> {
  const { rows } = await db.query<{ id: string }>("select id from app_public.customers where telegram_id = $1", [
    telegramId,
  ]);
  if (!rows[0]) throw noSuchCustomer();
  return rows[0].id;
}

export async function balanceOf(db: pg.ClientBase, telegramId: number, currency: string | undefined) {
  const id = await customerId(db, telegramId);
  const { rows } = await db.query<{ balance: string; currency: string }>(
    `select coalesce((select b.balance from app_public.customer_balances b
                      where b.customer_id = $1 and b.currency = c.cur), 0)::numeric(18,2)::text as balance,
            c.cur as currency
     from (select coalesce($2, app_hidden.bot_store_currency()) as cur) c`,
    [id, currency ?? null],
  );
  return rows[0]!;
}

export async function referralAnalytics(
  db: pg.ClientBase,
  telegramId: number,
): Promise<z.input<typeof ReferralAnalytics>> {
  const id = await customerId(db, telegramId);
  const { rows } = await db.query(
    `with payouts as (
       select t.* from app_public.transactions t
       where t.customer_id = $1 and t.type = 'referral_payout' and t.currency = app_hidden.bot_store_currency()
     )
     select
       (select count(*)::int from app_public.customers r where r.referred_by = $1) as "referralsCount",
       (select count(*)::int from app_public.customers r
        where r.referred_by = $1
          and exists (select 1 from app_public.orders o where o.customer_id = r.id and o.paid_at is not null))
         as "payingReferralsCount",
       (select coalesce(sum(p.amount), 0)::numeric(18,2)::text from payouts p) as "totalEarned",
       app_hidden.bot_store_currency() as currency,
       (select coalesce(json_agg(json_build_object('botId', x.bot_id, 'botName', x.name,
                                                   'earned', x.earned::numeric(18,2)::text)
                                 order by x.earned desc, x.bot_id), '[]')
        from (select p.bot_id, b.name, sum(p.amount) as earned
              from payouts p join app_public.bots b on b.id = p.bot_id group by p.bot_id, b.name) x) as "earnedPerBot",
       (select coalesce(json_agg(json_build_object('id', y.id, 'amount', y.amount::text, 'currency', y.currency,
                                                   'botId', y.bot_id, 'orderId', y.order_id, 'createdAt', y.created_at)
                                 order by y.created_at desc, y.id), '[]')
        from (select * from payouts order by created_at desc, id limit 10) y) as "recentPayouts"`,
    [id],
  );
  const row = rows[0] as z.input<typeof ReferralAnalytics>;
  return {
    ...row,
    recentPayouts: row.recentPayouts.map((payout) => ({
      ...payout,
      createdAt: new Date(payout.createdAt).toISOString(),
    })),
  };
}

interface BotRow {
  id: string;
  owner_telegram_id: string | null;
  name: string;
  telegram_username: string | null;
  status: "active" | "disabled";
  referral_percent: string;
  created_at: Date;
}

export async function createBot(
  db: pg.ClientBase,
  input: { ownerTelegramId: number; name: string; username?: string; referralPercent?: number },
): Promise<z.input<typeof Bot>> {
  const { rows } = await db.query<BotRow>(
    `select b.id, c.telegram_id::text as owner_telegram_id, b.name, b.telegram_username, b.status,
            b.referral_percent::text, b.created_at
     from app_hidden.bot_create_bot($1, $2, $3, $4) b left join app_public.customers c on c.id = b.owner_id`,
    [input.ownerTelegramId, input.name, input.username ?? null, input.referralPercent ?? null],
  );
  const row = rows[0]!;
  return {
    id: row.id,
    ownerTelegramId: row.owner_telegram_id === null ? null : Number(row.owner_telegram_id),
    name: row.name,
    username: row.telegram_username,
    status: row.status,
    referralPercent: row.referral_percent,
    createdAt: row.created_at.toISOString(),
  };
}
