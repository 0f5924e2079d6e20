/**
 * graphile-worker throughput on this machine: N no-op jobs drained by one process, without and
 * with the local-queue batching our worker uses (src/platform/worker/runner.ts). Prints jobs/s and the ratio.
 * Usage: node bench/worker-throughput.ts [jobs=20000]   (uses the configured or embedded database)
 */
import { run, type RunnerOptions } from "graphile-worker";
import pg from "pg";
import { loadConfig } from "../src/modules/index.ts";
import { migrateDatabase, workerLogger } from "../src/platform/db/migrate.ts";
import { resolveDatabase } from "../src/platform/db/resolve.ts";
import { createLogger } from "../src/platform/logger.ts";
import { workerPreset } from "../src/platform/worker/runner.ts";

const jobs = Number(process.argv[2] ?? 20000);
const logger = createLogger("warn");
const database = await resolveDatabase(loadConfig(), logger);
await migrateDatabase(database.urls, logger);
const pool = new pg.Pool({ connectionString: database.urls.ownerUrl });

async function drain(label: string, extra: Partial<RunnerOptions>): Promise<number> {
  await pool.query(
    `select graphile_worker.add_jobs(array_agg(
       row('bench_noop', json_build_object('i', i), null, null, null, null, null, null)::graphile_worker.job_spec))
     from generate_series(1, $1) i`,
    [jobs],
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
  const plain = await drain("unbatched", {});
  const batched = await drain("local queue (our settings)", { preset: workerPreset });
  process.stdout.write(`ratio batched / unbatched: ${(batched / plain).toFixed(1)}×\n`);
} finally {
  await pool.end();
  await database.stop();
}
