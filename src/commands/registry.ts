/**
 * Operator commands run with `npm run task -- <name> [args]`. Modules add theirs here; each one
 * validates its own arguments and throws AppError("VALIDATION_FAILED") with a usage line.
 */
import { quickAddJob } from "graphile-worker";
import type pg from "pg";
import type { DatabaseUrls } from "../config.ts";
import { AppError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { TASK_NAMES } from "../worker/registry.ts";
import { SESSION_RETENTION_DAYS } from "../worker/tasks/identityHousekeeping.ts";

export interface CommandContext {
  pool: pg.Pool;
  urls: DatabaseUrls;
  logger: Logger;
  print(line: string): void;
}

export interface Command {
  usage: string;
  description: string;
  run(context: CommandContext, args: string[]): Promise<void>;
}

function parseJsonObject(text: string | undefined, usage: string): Record<string, unknown> {
  if (text === undefined) return {};
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through to the usage error
  }
  throw new AppError("VALIDATION_FAILED", `The payload must be a JSON object. Usage: ${usage}`);
}

export const commands: Record<string, Command> = {
  cleanup: {
    usage: "cleanup sessions",
    description: `Deletes sessions, registrations, reset tokens and 2FA challenges expired for over ${SESSION_RETENTION_DAYS} days.`,
    async run({ pool, print }, [what]) {
      if (what !== "sessions") throw new AppError("VALIDATION_FAILED", `Usage: ${commands.cleanup!.usage}`);
      const { rows } = await pool.query<{ deleted: Record<string, number> }>(
        "select app_private.cleanup_expired(make_interval(days => $1)) as deleted",
        [SESSION_RETENTION_DAYS],
      );
      print(`deleted ${JSON.stringify(rows[0]?.deleted)}`);
    },
  },
  enqueue: {
    usage: "enqueue <task> [json-payload]",
    description: "Adds a job for a registered worker task.",
    async run({ urls, print }, [task, payload]) {
      const usage = commands.enqueue!.usage;
      if (!task || !(TASK_NAMES as readonly string[]).includes(task)) {
        throw new AppError("VALIDATION_FAILED", `Unknown task ${JSON.stringify(task ?? "")}; known: ${TASK_NAMES.join(", ")}. Usage: ${usage}`);
      }
      const job = await quickAddJob({ connectionString: urls.ownerUrl }, task, parseJsonObject(payload, usage));
      print(`enqueued job ${job.id} (${task})`);
    },
  },
  redeliver: {
    usage: "redeliver <domain-event-id>",
    description: "Delivers a domain event again; consumers that already handled it are skipped.",
    async run({ pool, urls, print }, [id]) {
      if (!id || !/^\d+$/.test(id)) throw new AppError("VALIDATION_FAILED", `Usage: ${commands.redeliver!.usage}`);
      const { rowCount } = await pool.query("select 1 from app_private.domain_events where id = $1", [id]);
      if (!rowCount) throw new AppError("NOT_FOUND", `No domain event ${id}.`);
      const job = await quickAddJob({ connectionString: urls.ownerUrl }, "domain_event", { id: Number(id) });
      print(`enqueued job ${job.id} to redeliver domain event ${id}`);
    },
  },
};
