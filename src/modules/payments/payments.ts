/**
 * Starting and reading payments. A bot's request takes the order's stock and records the payment as
 * the bot (one transaction); the provider's invoice is asked for after that commits (a provider
 * that is slow holds no lock), then attached as the owner. A provider that fails — or answers an
 * invoice for another amount or currency, or one that cannot be recorded (an id another payment
 * holds) — closes the payment at once (the stock goes back) and the bot gets
 * PAYMENT_PROVIDER_UNAVAILABLE. A second `pay` of the order meanwhile waits for that invoice and
 * answers what the first one answers.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import type { z } from "zod";
import { AppError, isConnectionError } from "../../platform/errors.ts";
import type { Logger } from "../../platform/logger.ts";
import type { BotCaller, BotRunner } from "../commerce/botAuth.ts";
import { type Invoice, ProviderError, ProviderRefusal, type PaymentProvider } from "./providers/provider.ts";
import type { Payment } from "./schemas.ts";

type PaymentJson = z.input<typeof Payment>;

export interface PaymentRow {
  id: string;
  tenant_id: string;
  kind: "order" | "deposit";
  order_id: string | null;
  bot_id: string;
  provider: "mock" | "platform";
  provider_payment_id: string | null;
  status: PaymentJson["status"];
  payment_url: string | null;
  amount: string;
  currency: string;
  created_at: Date;
  paid_at: Date | null;
}

export const paymentJson = (row: PaymentRow): PaymentJson => ({
  id: row.id,
  kind: row.kind,
  orderId: row.order_id,
  provider: row.provider,
  providerPaymentId: row.provider_payment_id,
  status: row.status,
  paymentUrl: row.payment_url,
  amount: row.amount,
  currency: row.currency,
  createdAt: new Date(row.created_at).toISOString(),
  paidAt: row.paid_at ? new Date(row.paid_at).toISOString() : null,
});

/** Columns of a payments row as PaymentRow reads them (amounts as exact strings). */
export const PAYMENT_COLUMNS = `id, tenant_id, kind, order_id, bot_id, provider, provider_payment_id, status,
  payment_url, amount::text, currency, created_at, paid_at`;

export async function findPayment(db: pg.ClientBase, id: string): Promise<PaymentJson> {
  const { rows } = await db.query<PaymentRow>(`select ${PAYMENT_COLUMNS} from app_public.payments where id = $1`, [id]);
  if (!rows[0]) throw new AppError("NOT_FOUND", "This bot has no payment with this id.");
  return paymentJson(rows[0]);
}

export interface PaymentStarter {
  /** An order's payment (the one already in progress, if any) or a deposit. */
  start(caller: BotCaller, what: { orderId: string } | { telegramId: number; amount: string }): Promise<PaymentJson>;
}

/** An invoice for another amount or currency than asked is the provider's failure, not the customer's bill. */
function assertInvoiceFor(invoice: Invoice, row: PaymentRow, provider: string): void {
  const amountDiffers = invoice.amount !== undefined && !sameAmount(invoice.amount, row.amount);
  const currencyDiffers = invoice.currency !== undefined && invoice.currency !== row.currency;
  if (amountDiffers || currencyDiffers) {
    throw new ProviderError(
      `${provider}: an invoice for ${invoice.amount} ${invoice.currency} instead of ${row.amount} ${row.currency}`,
    );
  }
}

/** Two decimal strings of one amount ("1", "1.0", "1.000", "01.00"). */
function sameAmount(a: string, b: string): boolean {
  const canonical = (value: string) => {
    const [whole, fraction = ""] = value.split(".");
    return `${BigInt(whole!)}.${fraction.replace(/0+$/, "")}`;
  };
  return canonical(a) === canonical(b);
}

/** Why a payment whose invoice the provider did not give was closed (`failure_reason`). */
const INVOICE_REFUSED = "The provider refused the invoice";
const INVOICE_UNAVAILABLE = "The provider could not create the invoice";

/**
 * How long a `pay` that finds its order's payment still without an invoice waits for the request
 * asking the provider (which may sign in first, each call up to 10 s) before answering it as it is.
 */
const INVOICE_WAIT_MS = 30_000;

/** The error a payment closed before its invoice came answers with, as its starter answered. */
function invoiceFailure(reason: string | null, cause?: unknown): AppError {
  const code = reason === INVOICE_REFUSED ? "PAYMENT_PROVIDER_REFUSED" : "PAYMENT_PROVIDER_UNAVAILABLE";
  return new AppError(code, undefined, { cause });
}

export function paymentStarter(
  asBot: BotRunner,
  ownerPool: pg.Pool,
  provider: () => PaymentProvider,
  logger: Logger,
): PaymentStarter {
  /** The invoices this process is asking for, by payment id: a second `pay` takes the first's answer. */
  const asking = new Map<string, Promise<PaymentJson>>();

  async function askForInvoice(chosen: PaymentProvider, row: PaymentRow): Promise<PaymentJson> {
    try {
      const invoice = await chosen.createInvoice({
        paymentId: row.id,
        amount: row.amount,
        currency: row.currency,
        description: row.kind === "order" ? `Order ${row.order_id}` : "Balance top-up",
      });
      assertInvoiceFor(invoice, row, chosen.name);
      const attached = await ownerPool
        .query<PaymentRow>(`select ${PAYMENT_COLUMNS} from app_private.attach_invoice($1, $2, $3)`, [
          row.id,
          invoice.providerPaymentId,
          invoice.paymentUrl,
        ])
        .catch((error: unknown) => {
          // An invoice id another payment already holds: the provider's answer cannot be ours.
          if (isConnectionError(error)) throw error;
          throw new ProviderError(`${chosen.name}: its invoice could not be recorded`, { cause: error });
        });
      return paymentJson(attached.rows[0]?.id ? attached.rows[0] : row);
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      logger.warn({ err: error, paymentId: row.id, provider: chosen.name }, "the payment provider failed");
      const reason = error instanceof ProviderRefusal ? INVOICE_REFUSED : INVOICE_UNAVAILABLE;
      await ownerPool.query("select app_private.close_payment($1, 'failed', $2)", [row.id, reason]);
      throw invoiceFailure(reason, error);
    }
  }

  /**
   * The order's payment in flight, once its invoice is attached (or the payment closed without one):
   * the answer of this process's request asking for it, or else (another process asks) the row read
   * again until it changes, for at most INVOICE_WAIT_MS; then as it is, `paymentUrl` still null.
   */
  async function invoiceOf(row: PaymentRow): Promise<PaymentJson> {
    const local = asking.get(row.id);
    logger.debug({ paymentId: row.id, inThisProcess: local !== undefined }, "waiting for the invoice asked for");
    if (local) return local;
    let current = row;
    const deadline = Date.now() + INVOICE_WAIT_MS;
    for (let pause = 20; Date.now() < deadline; pause = Math.min(pause * 2, 500)) {
      await sleep(Math.min(pause, Math.max(0, deadline - Date.now())));
      const { rows } = await ownerPool.query<PaymentRow & { failure_reason: string | null }>(
        `select ${PAYMENT_COLUMNS}, failure_reason from app_public.payments where id = $1`,
        [row.id],
      );
      const read = rows[0];
      if (!read) break;
      current = read;
      if (read.provider_payment_id !== null) break;
      if (read.status !== "pending") throw invoiceFailure(read.failure_reason);
    }
    return paymentJson(current);
  }

  return {
    async start(caller, what) {
      let chosen: PaymentProvider;
      try {
        chosen = provider();
      } catch (error) {
        throw new AppError("PAYMENT_PROVIDER_UNAVAILABLE", undefined, { cause: error });
      }
      const { rows } = await asBot(caller, (db) =>
        db.query<PaymentRow & { created: boolean }>(
          "select (s.payment).*, s.created from app_hidden.bot_start_payment($1, $2, $3, $4) s",
          "orderId" in what
            ? [what.orderId, null, null, chosen.name]
            : [null, what.telegramId, what.amount, chosen.name],
        ),
      );
      const { created, ...row } = rows[0]!;
      if (!created) {
        const invoiced = row.provider_payment_id !== null || row.status !== "pending";
        return invoiced ? paymentJson(row) : invoiceOf(row);
      }
      const answer = askForInvoice(chosen, row);
      asking.set(row.id, answer);
      try {
        return await answer;
      } finally {
        asking.delete(row.id);
      }
    },
  };
}
