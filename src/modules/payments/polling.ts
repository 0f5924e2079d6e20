/**
 * poll_payments (cron, every minute): a payment still pending PAYMENT_NOTIFICATION_MINUTES after it
 * was created is asked about at its provider and settled as its webhook would have settled it;
 * one still pending (or whose provider cannot say) PAYMENT_EXPIRY_MINUTES after it was created
 * expires and gives its stock back. A success that the provider reports later still reaches the
 * customer: a webhook or poll after expiry credits the balance (app_private.settle_payment).
 *
 * Each run asks about at most PAYMENT_POLL_BATCH payments, those asked least recently first (never
 * asked, then the oldest answers). A payment whose settling is refused stays pending for an
 * operator and is asked again each run; taken oldest first, as before, enough of those filled every
 * run, and no other payment was settled or expired again.
 */
import type { JobHelpers } from "graphile-worker";
import { z } from "zod";
import type { TaskContext, TaskDefinition } from "../../platform/modules.ts";
import type { PaymentsConfig } from "./config.ts";
import type { PaymentProvider } from "./providers/provider.ts";

interface DueRow {
  id: string;
  provider: "mock" | "platform";
  provider_payment_id: string | null;
  expired: boolean;
}

type ProviderFor = (name: "mock" | "platform") => PaymentProvider;

export function pollPayments(
  resolve: (context: TaskContext) => { settings: PaymentsConfig; providers: ProviderFor },
): TaskDefinition<unknown> {
  return {
    payload: z.unknown(),
    async run(_payload, helpers: JobHelpers, context) {
      const { settings, providers: providerFor } = resolve(context);
      const { notificationMinutes, expiryMinutes, pollBatch } = settings;
      const { rows } = await helpers.withPgClient((client) =>
        client.query<DueRow>(
          `update app_public.payments p set checked_at = now()
           from (select id from app_public.payments
                 where status = 'pending' and created_at <= now() - make_interval(mins => $1)
                   and (checked_at is null or checked_at <= now() - interval '50 seconds')
                 order by checked_at nulls first, created_at limit $3 for update skip locked) due
           where p.id = due.id
           returning p.id, p.provider, p.provider_payment_id,
                     p.created_at <= now() - make_interval(mins => $2) as expired`,
          [notificationMinutes, expiryMinutes, pollBatch],
        ),
      );
      for (const payment of rows) {
        const state = await askProvider(payment, providerFor, helpers);
        await helpers.withPgClient(async (client) => {
          if (state && state.status !== "pending") {
            try {
              await client.query("select app_private.settle_payment($1, $2, $3, $4, 'poll')", [
                payment.id,
                state.status,
                state.amount,
                state.currency,
              ]);
            } catch (error) {
              // An amount that disagrees (or a payment gone): leave it to expire, say so.
              helpers.logger.error(`payment ${payment.id}: the provider's state was refused: ${String(error)}`);
            }
          } else if (payment.expired) {
            await client.query("select app_private.expire_payment($1)", [payment.id]);
          }
        });
      }
    },
  };
}

async function askProvider(payment: DueRow, providerFor: ProviderFor, helpers: JobHelpers) {
  if (!payment.provider_payment_id) return undefined;
  try {
    // A provider no longer configured is one that cannot be asked (the payment then expires).
    return await providerFor(payment.provider).fetchInvoice(payment.provider_payment_id);
  } catch (error) {
    helpers.logger.warn(`payment ${payment.id}: the provider could not be asked: ${String(error)}`);
    return undefined;
  }
}
