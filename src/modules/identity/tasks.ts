/** Housekeeping tasks: scrubbing deleted users, deleting long-expired auth rows and e-mail delivery records. */
import type { Task } from "graphile-worker";

/** Sessions, registrations, reset tokens and challenges expired for longer than this are deleted. */
export const SESSION_RETENTION_DAYS = 30;

export const scrubUser: Task = async (payload, helpers) => {
  const userId = (payload as { userId?: unknown } | null)?.userId;
  if (typeof userId !== "string") throw new Error("scrub_user needs a userId");
  await helpers.query("select app_private.scrub_user($1)", [userId]);
};

export const cleanupExpired: Task = async (_payload, helpers) => {
  const { rows } = await helpers.query<{ deleted: unknown }>(
    "select app_private.cleanup_expired(make_interval(days => $1)) as deleted",
    [SESSION_RETENTION_DAYS],
  );
  // Delivery records only matter while their send_email job exists (retries consult them).
  const deliveries = await helpers.query<{ deleted: number }>("select app_private.cleanup_email_deliveries() as deleted");
  helpers.logger.info(`cleanup: ${JSON.stringify({ ...(rows[0]?.deleted as object | undefined), email_deliveries: deliveries.rows[0]?.deleted ?? 0 })}`);
};
