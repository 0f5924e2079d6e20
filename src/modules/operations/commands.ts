/** The operator's job commands: enqueue a task, retry a job, release dead workers' locks, redeliver. */
import { quickAddJob } from "graphile-worker";
import { idArgument, parseJsonObject, type Command } from "../../platform/commands.ts";
import { AppError } from "../../platform/errors.ts";

export const enqueue: Command = {
  usage: "enqueue <task> [json-payload]",
  description: "Adds a job for a registered worker task.",
  async run({ pool, taskNames, payloadProblems, maxAttempts, print }, [task, payload]) {
    if (!task || !taskNames.includes(task)) {
      const known = taskNames.join(", ");
      throw new AppError(
        "VALIDATION_FAILED",
        `Unknown task ${JSON.stringify(task ?? "")}; known: ${known}. Usage: ${enqueue.usage}`,
      );
    }
    const parsed = parseJsonObject(payload, enqueue.usage);
    // A payload the task's schema refuses would fail the job on every attempt: refused here instead.
    const problems = payloadProblems(task, parsed);
    if (problems.length > 0) {
      throw new AppError("VALIDATION_FAILED", `The payload does not fit ${task}: ${problems.join("; ")}.`);
    }
    const job = await quickAddJob({ pgPool: pool }, task, parsed, { maxAttempts: maxAttempts(task) });
    print(`enqueued job ${job.id} (${task})`);
  },
};

export const retry: Command = {
  usage: "retry <job-id>",
  description: "Runs a job again now with its attempts reset (e.g. one that failed for good).",
  async run({ pool, print }, [value]) {
    const id = idArgument(value, retry.usage);
    // The same state change as the retryJob mutation, without its caller checks (this is the operator).
    const { rows } = await pool.query<{ retried: boolean }>("select app_private.retry_job($1) as retried", [id]);
    if (!rows[0]?.retried) throw new AppError("NOT_FOUND", `No job ${id} (or it is running).`);
    print(`job ${id} will run again now`);
  },
};

export const unlockWorkers: Command = {
  usage: "unlock-workers [minutes=15]",
  description: "Releases jobs held longer than this by workers presumed dead, so others can run them.",
  async run({ pool, print }, [value = "15"]) {
    // As the mutation: at least 1 (0 would release the jobs running now), and an int's minutes.
    if (!/^[0-9]{1,10}$/.test(value) || Number(value) < 1 || Number(value) > 2_147_483_647)
      throw new AppError(
        "VALIDATION_FAILED",
        `minutes must be a whole number from 1 (0 would release jobs running now) to 2147483647. ` +
          `Usage: ${unlockWorkers.usage}`,
      );
    const minutes = Number(value);
    // The same state change as the unlockStaleJobs mutation (platform operators only).
    const { rows } = await pool.query<{ jobs: number; workers: number }>(
      "select jobs, workers from app_private.unlock_stale_jobs(make_interval(mins => $1))",
      [minutes],
    );
    print(`unlocked ${rows[0]?.jobs ?? 0} job(s) of ${rows[0]?.workers ?? 0} worker(s)`);
  },
};

export const redeliver: Command = {
  usage: "redeliver <domain-event-id>",
  description: "Delivers a domain event again; consumers that already handled it are skipped.",
  async run({ pool, print }, [value]) {
    const id = idArgument(value, redeliver.usage);
    const { rows } = await pool.query<{ tenant_id: string | null }>(
      "select tenant_id from app_private.domain_events where id = $1",
      [id],
    );
    if (!rows[0]) throw new AppError("NOT_FOUND", `No domain event ${id}.`);
    // The job carries its tenant, as app_private.enqueue_job would stamp it.
    const tenant = rows[0].tenant_id ? { tenantId: rows[0].tenant_id } : {};
    const job = await quickAddJob({ pgPool: pool }, "domain_event", { id: Number(id), ...tenant });
    print(`enqueued job ${job.id} to redeliver domain event ${id}`);
  },
};
