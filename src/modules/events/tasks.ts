/** Event tasks: a participant's reminder, and the cancellation fan-out in batches. */
import { z } from "zod";
import type { TaskDefinition } from "../../platform/modules.ts";

/**
 * Participants notified per transaction when an event is cancelled (one e-mail job per batch).
 * Small, so the first are told while the next batch is written (bench/README.md, "Notification
 * fan-out": 500 a batch tripled the NOTIFY → client p99 for about the same last receipt).
 */
export const CANCELLATION_BATCH_SIZE = 100;

/** A cancelled event's reminder jobs removed per transaction, once every participant was told. */
const REMINDER_REMOVAL_BATCH_SIZE = 500;

/** Idempotent: the participant row records the delivery, the notification is unique per event. */
export const eventReminder: TaskDefinition<{ participantId: string }> = {
  payload: z.object({ participantId: z.uuid() }),
  async run({ participantId }, helpers) {
    await helpers.query("select app_private.send_event_reminder($1)", [participantId]);
  },
};

/**
 * Notifies the participants in batches, then removes their reminder jobs in batches: a reminder of
 * a cancelled event does nothing, so its removal waits until everyone has been told. A retry
 * re-walks both; notifications already there are skipped, e-mail included.
 */
export const eventCancelled: TaskDefinition<{ eventId: string }> = {
  payload: z.object({ eventId: z.uuid() }),
  async run({ eventId }, helpers) {
    const steps = [
      ["notify_event_cancelled", CANCELLATION_BATCH_SIZE],
      ["remove_event_reminders", REMINDER_REMOVAL_BATCH_SIZE],
    ] as const;
    for (const [step, batchSize] of steps) {
      let after: string | null = null;
      do {
        const { rows }: { rows: Array<{ last: string | null }> } = await helpers.query(
          `select app_private.${step}($1, $2, $3) as last`,
          [eventId, after, batchSize],
        );
        after = rows[0]?.last ?? null;
      } while (after !== null);
    }
  },
};
