/**
 * The scheduler and the delivery job.
 *
 * broadcast_schedule (cron every minute, and a keyed job at each broadcast's scheduled time) starts
 * the due broadcasts in SQL: deliveries in batches, one broadcast_deliver job per batch.
 *
 * broadcast_deliver sends one batch, one message at a time: each delivery is claimed (`sending`,
 * committed) before the call and its outcome recorded in its own statement right after the
 * answer, so a crash re-sends nothing already answered. A delivery a dead run left `sending` is
 * never sent again (app_private.broadcast_batch marks it failed, INTERRUPTED): Telegram has no
 * idempotency key, and it may have arrived. docs/broadcasts.md has the whole reasoning.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import type { TaskContext, TaskDefinition } from "../../platform/modules.ts";
import { botTokenBox } from "./botTokens.ts";
import { broadcastsConfig } from "./config.ts";
import { sendBroadcastMessage } from "./telegram.ts";

/** The longest 429 pause a job takes in place (Telegram asks for seconds, rarely minutes). */
const MAX_RETRY_AFTER_SECONDS = 300;
/** 429 answers in a row for one message before it counts as a temporary failure (the job retries later). */
const MAX_RETRY_AFTERS_IN_A_ROW = 5;

/**
 * Waits `ms`, unless the worker stops meanwhile (graphile-worker aborts its jobs' signal 5 s after a
 * graceful stop begins): whether the wait ran its course.
 */
async function pause(ms: number, stopping: AbortSignal): Promise<boolean> {
  if (stopping.aborted) return false;
  if (ms <= 0) return true;
  return sleep(ms, true, { signal: stopping }).catch(() => false);
}

function configOf(context: TaskContext, task: string) {
  if (!context.config) throw new Error(`${task}: the worker was started without its configuration`);
  return context.config;
}

export const broadcastSchedule: TaskDefinition<Record<string, unknown>> = {
  payload: z.object({}).passthrough(),
  async run(_payload, helpers, context) {
    const { batchSize } = broadcastsConfig.of(configOf(context, "broadcast_schedule"));
    // Each call starts up to 20 due broadcasts in one transaction; go on while there are more.
    for (;;) {
      const { rows } = await helpers.query<{ started: number }>(
        "select app_private.start_due_broadcasts($1, 20) as started",
        [batchSize],
      );
      if ((rows[0]?.started ?? 0) < 20) break;
    }
  },
};

interface BatchInfo {
  broadcast_status: string | null;
  message: string | null;
  image_id: string | null;
  sealed_token: string | null;
  interrupted: number | null;
}

interface Claimed {
  id: string | null;
  chat_id: string | null;
}

export const broadcastDeliver: TaskDefinition<{ broadcastId: string; batch: number }> = {
  payload: z.object({ broadcastId: z.uuid(), batch: z.number().int().min(0) }),
  async run({ broadcastId, batch }, helpers, context) {
    const config = configOf(context, "broadcast_deliver");
    const settings = broadcastsConfig.of(config);
    const { rows } = await helpers.query<BatchInfo>("select * from app_private.broadcast_batch($1, $2)", [
      broadcastId,
      batch,
    ]);
    const info = rows[0];
    if (info?.interrupted)
      helpers.logger.warn(`broadcast ${broadcastId} batch ${batch}: ${info.interrupted} interrupted, not re-sent`);
    const lastAttempt = helpers.job.attempts >= helpers.job.max_attempts;
    if (info?.broadcast_status !== "sending" || info.message === null) {
      // Cancelled, completed or gone: nothing to send.
      await helpers.query("select app_private.finish_broadcast_batch($1, $2, false)", [broadcastId, batch]);
      return;
    }
    if (!info.sealed_token) throw new Error(`broadcast ${broadcastId}: its bot has no token`);
    const token = botTokenBox(config).open(info.sealed_token);
    const base = config.publicUrl ?? `http://localhost:${config.port}`;
    const photoUrl = info.image_id ? `${base.replace(/\/+$/, "")}/api/images/${info.image_id}` : undefined;
    const interval = settings.messagesPerSecond > 0 ? 1000 / settings.messagesPerSecond : 0;
    let lastSentAt = 0;
    let after: string | null = null;
    let retryAfters = 0;
    const record = (id: string, outcome: string, error: string | null) =>
      helpers.query("select app_private.record_broadcast_delivery($1, $2, $3)", [id, outcome, error]);

    // A stopping worker finishes the call under way (at most BROADCASTS_REQUEST_TIMEOUT_MS: cutting
    // it short could leave a message both delivered and unrecorded) and no more: a 429's wait of up
    // to 300 s would hold the process past any grace period. The rest of the batch, pending, goes to
    // a new job of the same key, which the next worker runs at once.
    const { abortSignal: stopping, job } = helpers;
    const handOver = () =>
      helpers.query("select app_private.hand_over_broadcast_batch($1, $2, $3)", [
        broadcastId,
        batch,
        job.max_attempts - job.attempts + 1,
      ]);
    for (;;) {
      if (!(await pause(lastSentAt + interval - Date.now(), stopping))) {
        await handOver();
        return;
      }
      const claimed: Claimed | undefined = (
        await helpers.query<Claimed>("select * from app_private.claim_broadcast_delivery($1, $2, $3)", [
          broadcastId,
          batch,
          after,
        ])
      ).rows[0];
      if (!claimed?.id || claimed.chat_id === null) break;
      lastSentAt = Date.now();
      const outcome = await sendBroadcastMessage(
        settings.telegramApiUrl,
        token,
        { chatId: claimed.chat_id, text: info.message, photoUrl },
        settings.requestTimeoutMs,
      );
      switch (outcome.kind) {
        case "sent":
          await record(claimed.id, "sent", null);
          break;
        case "blocked":
          await record(claimed.id, "blocked", outcome.error);
          break;
        case "failed":
          await record(claimed.id, "failed", outcome.error);
          break;
        case "temporary":
          // Back to pending: this run moves on; the job's retry (with backoff) tries it again.
          await record(claimed.id, "pending", outcome.error);
          break;
        case "retryAfter":
          // Not sent: pending again (a crash while waiting loses nothing), then the same one again.
          await record(claimed.id, "pending", `429 retry after ${outcome.seconds} s`);
          retryAfters += 1;
          if (retryAfters < MAX_RETRY_AFTERS_IN_A_ROW) {
            if (await pause(Math.min(outcome.seconds, MAX_RETRY_AFTER_SECONDS) * 1000, stopping)) continue;
            await handOver();
            return;
          }
          break;
      }
      retryAfters = 0;
      after = claimed.id;
    }
    const { rows: left } = await helpers.query<{ left: number }>(
      "select app_private.finish_broadcast_batch($1, $2, $3) as left",
      [broadcastId, batch, lastAttempt],
    );
    const remaining = left[0]?.left ?? 0;
    if (remaining > 0 && !lastAttempt) {
      throw new Error(`broadcast ${broadcastId} batch ${batch}: ${remaining} deliveries to retry`);
    }
  },
};
