/**
 * Operator commands run with `npm run task -- <name> [args]`. Modules add theirs here; each one
 * validates its own arguments and throws AppError("VALIDATION_FAILED") with a usage line.
 */
import { quickAddJob } from "graphile-worker";
import type pg from "pg";
import type { DatabaseUrls } from "./config.ts";
import { AppError } from "./errors.ts";
import type { Logger } from "./logger.ts";
import { TASK_NAMES } from "./worker/registry.ts";
import { SESSION_RETENTION_DAYS } from "../modules/identity/tasks.ts";

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
  retry: {
    usage: "retry <job-id>",
    description: "Runs a job again now with its attempts reset (e.g. one that failed for good).",
    async run({ pool, print }, [id]) {
      if (!id || !/^\d+$/.test(id)) throw new AppError("VALIDATION_FAILED", `Usage: ${commands.retry!.usage}`);
      const { rows } = await pool.query<{ id: string }>(
        "select id::text from graphile_worker.reschedule_jobs(array[$1::bigint], run_at => now(), attempts => 0::smallint)",
        [id],
      );
      if (!rows[0]) throw new AppError("NOT_FOUND", `No job ${id} (or it is running).`);
      print(`job ${id} will run again now`);
    },
  },
  "unlock-workers": {
    usage: "unlock-workers [minutes=15]",
    description: "Releases jobs held longer than this by workers presumed dead, so others can run them.",
    async run({ pool, print }, [minutes = "15"]) {
      if (!/^\d+$/.test(minutes)) throw new AppError("VALIDATION_FAILED", `Usage: ${commands["unlock-workers"]!.usage}`);
      const { rows } = await pool.query<{ workers: string[] | null; jobs: number }>(
        "select array_agg(distinct locked_by) as workers, count(*)::int as jobs from graphile_worker.jobs where locked_at < now() - make_interval(mins => $1)",
        [Number(minutes)],
      );
      const workers = rows[0]?.workers ?? [];
      if (workers.length > 0) await pool.query("select graphile_worker.force_unlock_workers($1)", [workers]);
      print(`unlocked ${rows[0]?.jobs ?? 0} job(s) of ${workers.length} worker(s)`);
    },
  },
  redeliver: {
    usage: "redeliver <domain-event-id>",
    description: "Delivers a domain event again; consumers that already handled it are skipped.",
    async run({ pool, urls, print }, [id]) {
      if (!id || !/^\d+$/.test(id)) throw new AppError("VALIDATION_FAILED", `Usage: ${commands.redeliver!.usage}`);
      const { rows } = await pool.query<{ tenant_id: string | null }>("select tenant_id from app_private.domain_events where id = $1", [id]);
      if (!rows[0]) throw new AppError("NOT_FOUND", `No domain event ${id}.`);
      // The job carries its tenant, as app_private.enqueue_job would stamp it.
      const tenant = rows[0].tenant_id ? { tenantId: rows[0].tenant_id } : {};
      const job = await quickAddJob({ connectionString: urls.ownerUrl }, "domain_event", { id: Number(id), ...tenant });
      print(`enqueued job ${job.id} to redeliver domain event ${id}`);
    },
  },
};
