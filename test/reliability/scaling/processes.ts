/**
 * The scale-out test's processes: `npm run server` and `npm run worker` as children (output kept,
 * stopped with SIGTERM), and the record of every job the queue receives — a trigger of the test's
 * own on graphile-worker's job table, in the test's own database — that "exactly once" is checked
 * against.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { projectRoot } from "../../../src/platform/paths.ts";
import type { TestDatabase } from "../../helpers/database.ts";
import { until } from "../../helpers/wait.ts";

export interface TesseraProcess {
  name: string;
  child: ChildProcess;
  output(): string;
  /** SIGTERM if still running; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export function spawnTessera(
  name: string,
  entry: "server.ts" | "worker.ts",
  env: Record<string, string>,
): TesseraProcess {
  const child = spawn(process.execPath, [join(projectRoot, "src", "cli", entry)], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const chunks: string[] = [];
  child.stdout!.on("data", (chunk: Buffer) => chunks.push(chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => chunks.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const spawned: TesseraProcess = {
    name,
    child,
    output: () => chunks.join(""),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
  return spawned;
}

/** Both runners of a worker process (jobs and mail) have connected. A failure bound of 60 s. */
export async function workerConnected(worker: TesseraProcess): Promise<void> {
  await until(
    () => {
      if (worker.child.exitCode !== null) throw new Error(`${worker.name} exited\n${worker.output()}`);
      return (worker.output().match(/Worker connected/g) ?? []).length >= 2;
    },
    `${worker.name} to connect`,
    60_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${worker.output()}`);
  });
}

/** Completed and failed jobs as the workers logged them: job id → the names of the workers. */
export function jobOutcomes(workers: readonly TesseraProcess[]): {
  completed: Map<string, string[]>;
  failed: string[];
} {
  const completed = new Map<string, string[]>();
  const failed: string[] = [];
  for (const worker of workers) {
    for (const match of worker.output().matchAll(/Completed task (\d+) \(/g))
      completed.set(match[1]!, [...(completed.get(match[1]!) ?? []), worker.name]);
    for (const match of worker.output().matchAll(/Failed task [^"\n]*/g)) failed.push(`${worker.name}: ${match[0]}`);
  }
  return { completed, failed };
}

export interface LoggedJob {
  id: string;
  task: string;
  /** The tick of a cron job (graphile-worker's `_cron.ts`), else null. */
  cronTs: string | null;
  insertedAt: Date;
}

/**
 * Records every job inserted into the queue from now on (a row per job; a keyed job replaced in
 * place is its first insert). Test instrumentation: the superuser adds it to this database only.
 */
export async function recordJobs(db: TestDatabase): Promise<void> {
  await db.rootPool.query(`
    create table public.scale_job_log (
      job_id bigint primary key, task text not null, cron_ts text, inserted_at timestamptz not null
    );
    create function public.scale_log_job() returns trigger language plpgsql security definer
      set search_path to pg_catalog, public as $$
    begin
      insert into public.scale_job_log
        select new.id, t.identifier, new.payload -> '_cron' ->> 'ts', clock_timestamp()
        from graphile_worker._private_tasks t where t.id = new.task_id;
      return new;
    end $$;
    create trigger scale_log_job after insert on graphile_worker._private_jobs
      for each row execute function public.scale_log_job();`);
}

export async function loggedJobs(db: TestDatabase): Promise<LoggedJob[]> {
  const { rows } = await db.rootPool.query<LoggedJob>(
    `select job_id::text as id, task, cron_ts as "cronTs", inserted_at as "insertedAt"
       from public.scale_job_log order by job_id`,
  );
  return rows;
}
