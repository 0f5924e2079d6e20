/** Event tasks: a participant's reminder, and the cancellation fan-out in batches. */
import { z } from "zod";
import type { TaskDefinition } from "../../platform/modules.ts";

/** Participants notified per transaction when an event is cancelled (one e-mail job per batch). */
export const CANCELLATION_BATCH_SIZE = 500;

/** Idempotent: the participant row records the delivery, the notification is unique per event. */
export const eventReminder: TaskDefinition<{ participantId: string }> = {
  payload: z.object({ participantId: z.string() }),
  async run({ participantId }, helpers) {
    await helpers.query("select app_private.send_event_reminder($1)", [participantId]);
  },
};

/** Walks the participants in batches; a retry re-walks them and skips those already notified. */
export const eventCancelled: TaskDefinition<{ eventId: string }> = {
  payload: z.object({ eventId: z.string() }),
  async run({ eventId }, helpers) {
    let after: string | null = null;
    do {
      const { rows }: { rows: Array<{ last: string | null }> } = await helpers.query(
        "select app_private.notify_event_cancelled($1, $2, $3) as last",
        [eventId, after, CANCELLATION_BATCH_SIZE],
      );
      after = rows[0]?.last ?? null;
    } while (after !== null);
  },
};
