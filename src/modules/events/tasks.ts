/** Event tasks: a participant's reminder, and the cancellation fan-out in batches. */
import type { Task } from "graphile-worker";

/** Participants notified per transaction when an event is cancelled (one e-mail job per batch). */
export const CANCELLATION_BATCH_SIZE = 500;

/** Idempotent: the participant row records the delivery, the notification is unique per event. */
export const eventReminder: Task = async (payload, helpers) => {
  const participantId = (payload as { participantId?: unknown } | null)?.participantId;
  if (typeof participantId !== "string") throw new Error("event_reminder needs a participantId");
  await helpers.query("select app_private.send_event_reminder($1)", [participantId]);
};

/** Walks the participants in batches; a retry re-walks them and skips those already notified. */
export const eventCancelled: Task = async (payload, helpers) => {
  const eventId = (payload as { eventId?: unknown } | null)?.eventId;
  if (typeof eventId !== "string") throw new Error("event_cancelled needs an eventId");
  let after: string | null = null;
  do {
    const { rows }: { rows: Array<{ last: string | null }> } = await helpers.query(
      "select app_private.notify_event_cancelled($1, $2, $3) as last",
      [eventId, after, CANCELLATION_BATCH_SIZE],
    );
    after = rows[0]?.last ?? null;
  } while (after !== null);
};
