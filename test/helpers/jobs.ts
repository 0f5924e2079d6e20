/** What is waiting in graphile-worker's queue (its public `jobs` view has no payloads). */
import { runOnce, type TaskList } from "graphile-worker";
import type pg from "pg";
import { workerLogger } from "../../src/platform/db/migrate.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { until } from "./wait.ts";

export interface QueuedJob {
  task: string;
  payload: Record<string, unknown>;
  runAt: Date;
  key: string | null;
}

export async function queuedJobs(pool: pg.Pool, task?: string): Promise<QueuedJob[]> {
  const { rows } = await pool.query<QueuedJob>(
    `select t.identifier as task, j.payload, j.run_at as "runAt", j.key
     from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
     where $1::text is null or t.identifier = $1 order by j.id`,
    [task ?? null],
  );
  return rows;
}

/**
 * Runs every due job of `taskList` once, then returns once each outcome is written (graphile-worker's
 * runOnce resolves without awaiting the last job's completion or failure, and the job would still
 * look queued and locked). On the test's own pool: given a connection string, graphile-worker makes
 * a pool and ends it without waiting, its error listeners already removed, and a connection still
 * closing when the test file drops its database then crashed the file ("Unhandled error … 57P01").
 */
export async function runDueJobs(pool: pg.Pool, taskList: TaskList): Promise<void> {
  const { rows } = await pool.query<{ started: Date }>("select clock_timestamp() as started");
  await runOnce({ pgPool: pool, taskList, noHandleSignals: true, logger: workerLogger(createLogger("silent")) });
  // Jobs this run locked (a test may hold others locked on purpose, with an older locked_at).
  const locked = async () =>
    (
      await pool.query(
        `select 1 from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
       where j.locked_at >= $2 and t.identifier = any($1::text[])`,
        [Object.keys(taskList), rows[0]!.started],
      )
    ).rows.length;
  await until(async () => (await locked()) === 0, "the jobs' outcomes to be written");
}
