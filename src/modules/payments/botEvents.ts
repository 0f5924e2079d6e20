/**
 * Events for bots: a bot polls them (GET /api/bot/events, by increasing id) or has them pushed to
 * its webhook URL, signed the Standard Webhooks way with a secret of its own. That secret is derived
 * from PAYMENT_WEBHOOK_SECRET and the bot's id (HMAC-SHA256), so nothing secret is stored: the
 * bot reads it in the answer that sets its URL; rotating PAYMENT_WEBHOOK_SECRET rotates every bot's.
 */
import { createHmac } from "node:crypto";
import type { JobHelpers } from "graphile-worker";
import type pg from "pg";
import { z } from "zod";
import { isBigintId } from "../../platform/commands.ts";
import { privateTargetProblem } from "../../platform/http/publicAddress.ts";
import { signWebhook } from "../../platform/http/standardWebhooks.ts";
import type { TaskContext, TaskDefinition } from "../../platform/modules.ts";
import type { BotEvent } from "./schemas.ts";

type BotEventJson = z.input<typeof BotEvent>;

/** The HMAC key of a bot's pushes. */
export function botWebhookKey(serverKey: Buffer, botId: string): Buffer {
  return createHmac("sha256", serverKey).update(`bot-events:${botId}`).digest();
}

export function botWebhookSecret(serverKey: Buffer, botId: string): string {
  return `whsec_${botWebhookKey(serverKey, botId).toString("base64")}`;
}

interface EventRow {
  id: string;
  type: BotEventJson["type"];
  payload: Record<string, unknown>;
  created_at: Date;
}

const eventJson = (row: EventRow): BotEventJson => ({
  id: row.id,
  type: row.type,
  data: row.payload,
  createdAt: new Date(row.created_at).toISOString(),
});

/** The bot's events after `cursor` (RLS: the calling bot's own), and where to continue from. */
export async function eventsAfter(db: pg.ClientBase, cursor: string | undefined, limit: number) {
  const after = cursor ?? "0";
  const { rows } = await db.query<EventRow>(
    // Ordered by the column (a bigint), not by the text it is selected as.
    `select e.id::text, e.type, e.payload, e.created_at from app_public.bot_events e
     where e.tenant_id = app_hidden.bot_tenant_id() and e.bot_id = app_hidden.current_bot_id() and e.id > $1::bigint
     order by e.id limit $2`,
    [after, limit],
  );
  return { items: rows.map(eventJson), nextCursor: rows.at(-1)?.id ?? after };
}

export async function setWebhook(db: pg.ClientBase, url: string | null, serverKey: Buffer) {
  const { rows } = await db.query<{ id: string; webhook_url: string | null }>(
    "select id, webhook_url from app_hidden.bot_set_webhook($1)",
    [url],
  );
  const bot = rows[0]!;
  return { url: bot.webhook_url, secret: bot.webhook_url ? botWebhookSecret(serverKey, bot.id) : null };
}

/** How long one push may take before it counts as failed (the job is retried with backoff). */
const PUSH_TIMEOUT_MS = 5_000;

/** push_bot_event: POSTs one event to its bot's webhook URL; a non-2xx answer fails the job (retried). */
export function pushBotEvent(serverKey: (context: TaskContext) => Buffer): TaskDefinition<{ id: string | number }> {
  return {
    // A bot event's bigint id, as its trigger writes it (a number) or as digits.
    payload: z.object({ id: z.union([z.int().positive(), z.string().refine(isBigintId, "must be an id")]) }),
    async run({ id }, helpers: JobHelpers, context) {
      const found = await helpers.withPgClient((client) =>
        client.query<EventRow & { bot_id: string; url: string | null }>(
          `select e.id::text, e.type, e.payload, e.created_at, e.bot_id, b.webhook_url as url
           from app_public.bot_events e join app_public.bots b on b.id = e.bot_id where e.id = $1`,
          [id],
        ),
      );
      const event = found.rows[0];
      if (!event?.url) return; // the event or the bot's URL is gone: nothing to push
      const body = JSON.stringify(eventJson(event));
      let status: number | null = null;
      // In stage and prod a bot's URL may not point into the server's own network.
      let problem = context.config?.isProduction ? await privateTargetProblem(event.url) : null;
      if (problem) {
        await logAttempt(helpers, event, status, `refused: ${problem}`);
        helpers.logger.warn(`bot event ${event.id} not pushed: ${problem}`);
        return;
      }
      try {
        const response = await fetch(event.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...signWebhook(botWebhookKey(serverKey(context), event.bot_id), `evt_${event.id}`, body),
          },
          body,
          redirect: "error",
          signal: AbortSignal.timeout(PUSH_TIMEOUT_MS),
        });
        status = response.status;
        await response.body?.cancel();
        if (!response.ok) problem = `the bot's webhook answered ${response.status}`;
      } catch (error) {
        problem = error instanceof Error ? error.message : String(error);
      }
      await logAttempt(helpers, event, status, problem);
      if (problem) throw new Error(`push of bot event ${event.id} failed: ${problem}`);
    },
  };
}

/** One row of the push log: the answer's status, or why there was none. */
async function logAttempt(
  helpers: JobHelpers,
  event: { id: string; url: string | null },
  status: number | null,
  problem: string | null,
): Promise<void> {
  await helpers.withPgClient((client) =>
    client.query(
      `insert into app_private.bot_event_deliveries (event_id, url, attempt, status, error, delivered)
       values ($1, $2, $3, $4, left($5, 500), $6)`,
      [event.id, event.url, helpers.job.attempts, status, problem, problem === null],
    ),
  );
}
