/** What is waiting in graphile-worker's queue (its public `jobs` view has no payloads). */
import type pg from "pg";

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
