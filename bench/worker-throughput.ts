/**
 * graphile-worker throughput on this machine: N no-op jobs drained by one process, without and
 * with the local-queue batching our worker uses (src/platform/worker/runner.ts). Then one named
 * queue (one job at a time, as a tenant's bot pushes): its jobs announced when the queue is freed
 * (the platform migration's trigger), and the same with that trigger disabled, which waits for the
 * worker's 2 s poll between jobs. Prints jobs/s and the ratios.
 * Usage: node bench/worker-throughput.ts [jobs=20000] [queued=500]   (the configured or embedded database)
 */
import { run, type RunnerOptions } from "graphile-worker";
import pg from "pg";
import { loadConfig } from "../src/modules/index.ts";
import { migrateDatabase, workerLogger } from "../src/platform/db/migrate.ts";
import { resolveDatabase } from "../src/platform/db/resolve.ts";
import { createLogger } from "../src/platform/logger.ts";
import { workerPreset } from "../src/platform/worker/runner.ts";

const jobs = Number(process.argv[2] ?? 20000);
const queued = Number(process.argv[3] ?? 500);
/** Without the announcement a queue moves one job per poll: a few are enough to see it. */
const unannounced = 5;
const logger = createLogger("warn");
const database = await resolveDatabase(loadConfig(), logger);
await migrateDatabase(database.urls, logger);
const pool = new pg.Pool({ connectionString: database.urls.ownerUrl });

async function drain(label: string, extra: Partial<RunnerOptions>, jobs: number, queue?: string): Promise<number> {
  await pool.query(
    `select graphile_worker.add_jobs(array_agg(
       row('bench_noop', json_build_object('i', i), $2, null, null, null, null, null)::graphile_worker.job_spec))
     from generate_series(1, $1) i`,
    [jobs, queue ?? null],
  );
  let done = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const started = performance.now();
  const runner = await run({
    connectionString: database.urls.ownerUrl,
    concurrency: 24,
    noHandleSignals: true,
    logger: workerLogger(logger),
    taskList: {
      bench_noop: async () => {
        if (++done === jobs) finish();
      },
    },
    ...extra,
  });
  await finished;
  const seconds = (performance.now() - started) / 1000;
  await runner.stop();
  const rate = jobs / seconds;
  process.stdout.write(`${label.padEnd(28)} ${jobs} jobs in ${seconds.toFixed(2)} s = ${Math.round(rate)} jobs/s\n`);
  return rate;
}

try {
  const plain = await drain("unbatched", {}, jobs);
  const batched = await drain("local queue (our settings)", { preset: workerPreset }, jobs);
  process.stdout.write(`ratio batched / unbatched: ${(batched / plain).toFixed(1)}×\n`);
  const announced = await drain("one named queue", { preset: workerPreset }, queued, "bench_queue");
  const queues = "graphile_worker._private_job_queues";
  await pool.query(`alter table ${queues} disable trigger _900_announce_freed`);
  let polled: number;
  try {
    polled = await drain("same, freed queue unannounced", { preset: workerPreset }, unannounced, "bench_queue");
  } finally {
    await pool.query(`alter table ${queues} enable trigger _900_announce_freed`);
  }
  process.stdout.write(`ratio one named queue / no queue: ${(announced / batched).toFixed(2)}×\n`);
  process.stdout.write(`ratio announced / unannounced: ${Math.round(announced / polled)}×\n`);
} finally {
  await pool.end();
  await database.stop();
}
