/**
 * Identity's housekeeping: scrubbing deleted users, and deleting long-expired auth rows (with the
 * e-mail delivery records no job needs any more).
 */
import { z } from "zod";
import type { Command } from "../../platform/commands.ts";
import { AppError } from "../../platform/errors.ts";
import type { TaskDefinition } from "../../platform/modules.ts";

/** Sessions, registrations, reset tokens and challenges expired for longer than this are deleted. */
export const SESSION_RETENTION_DAYS = 30;

const CLEANUP_SQL = "select app_private.cleanup_expired(make_interval(days => $1)) as deleted";

export const scrubUser: TaskDefinition<{ userId: string }> = {
  payload: z.object({ userId: z.uuid() }),
  async run({ userId }, helpers) {
    await helpers.query("select app_private.scrub_user($1)", [userId]);
  },
};

export const cleanupExpired: TaskDefinition<unknown> = {
  payload: z.unknown(),
  async run(_payload, helpers) {
    const { rows } = await helpers.query<{ deleted: unknown }>(CLEANUP_SQL, [SESSION_RETENTION_DAYS]);
    // Delivery records only matter while their send_email job exists (retries consult them).
    const deliveries = await helpers.query<{ deleted: number }>(
      "select app_private.cleanup_email_deliveries() as deleted",
    );
    const deleted = { ...(rows[0]?.deleted as object | undefined), email_deliveries: deliveries.rows[0]?.deleted ?? 0 };
    helpers.logger.info(`cleanup: ${JSON.stringify(deleted)}`);
  },
};

export const cleanupCommand: Command = {
  usage: "cleanup sessions",
  description:
    "Deletes sessions, registrations, reset tokens and 2FA challenges expired for over " +
    `${SESSION_RETENTION_DAYS} days.`,
  async run({ pool, print }, [what]) {
    if (what !== "sessions") throw new AppError("VALIDATION_FAILED", `Usage: ${cleanupCommand.usage}`);
    const { rows } = await pool.query<{ deleted: Record<string, number> }>(CLEANUP_SQL, [SESSION_RETENTION_DAYS]);
    print(`deleted ${JSON.stringify(rows[0]?.deleted)}`);
  },
};
