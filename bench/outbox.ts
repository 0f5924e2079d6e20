/**
 * The outbox end to end: N tenants created in one statement, whose trigger publishes N
 * `tenant_created` domain events and enqueues their `domain_event` batch jobs (100 events a job),
 * drained by Tessera's worker
 * (startWorker: our task list, consumers and settings) — against raw graphile-worker with the same
 * settings (workerPreset) draining N no-op jobs added in one batch. Both clocks run from the enqueue
 * to the last job completed; every job must complete exactly once, with no failure, and every
 * consumer must have run once per event. Runs in a throw-away database beside the application's.
 * Usage: node bench/outbox.ts [jobs=20000] [concurrency=WORKER_CONCURRENCY]
 */
import { EventEmitter } from "node:events";
import { run, type Runner, type WorkerEvents } from "graphile-worker";
import { MODULES } from "../src/modules/index.ts";
import { workerLogger } from "../src/platform/db/migrate.ts";
import type { ModuleManifest } from "../src/platform/modules.ts";
import { startWorker, workerPreset } from "../src/platform/worker/runner.ts";
import { cpuWindow } from "./cpu.ts";
import { openBenchDatabase } from "./scale/database.ts";

const jobs = Number(process.argv[2] ?? 20000);
const db = await openBenchDatabase("outbox_bench");
const { config, logger } = db.bench;
const concurrency = Number(process.argv[3] ?? config.workerConcurrency);
const ownerUrl = db.urls.ownerUrl;

interface Drain {
  seconds: number;
  enqueueSeconds: number;
  /** graphile-worker jobs that carried the N items (fewer than N when they came in batch jobs). */
  jobs: number;
  /** CPU time (ms) from the enqueue to the last completion: this process (the worker) and PostgreSQL. */
  cpuMs: Record<string, number>;
}

/**
 * Counts completions per job id; resolves when the distinct jobs of `task` that succeeded carried
 * `expected` items (a job of one item, or a batch job: one item per element of its array payload).
 */
function watchJobs(events: WorkerEvents, task: string, expected: number) {
  const completions = new Map<string, number>();
  let items = 0;
  let failures = 0;
  let last = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  events.on("job:success", ({ job }) => {
    if (job.task_identifier !== task) return;
    const seen = completions.get(job.id) ?? 0;
    completions.set(job.id, seen + 1);
    if (!seen) items += Array.isArray(job.payload) ? job.payload.length : 1;
    last = performance.now();
    if (items === expected) finish();
  });
  events.on("job:error", ({ job }) => {
    if (job.task_identifier === task) failures++;
  });
  return {
    finished,
    lastAt: () => last,
    check(label: string) {
      const twice = [...completions.values()].filter((n) => n !== 1).length;
      if (items !== expected || twice || failures) {
        throw new Error(
          `${label}: ${items}/${expected} items completed (${completions.size} jobs), ${twice} jobs more than once,` +
            ` ${failures} failures`,
        );
      }
      return completions.size;
    },
  };
}

async function queueEmpty(task: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { rows } = await db.root.query<{ n: number }>(
      "select count(*)::int as n from graphile_worker.jobs where task_identifier = $1",
      [task],
    );
    if (rows[0]!.n === 0) return;
    if (Date.now() > deadline) throw new Error(`${rows[0]!.n} ${task} jobs still queued`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Raw graphile-worker, our settings, no-op jobs added in one batch. */
async function drainNoop(): Promise<Drain> {
  const events: WorkerEvents = new EventEmitter();
  const watch = watchJobs(events, "bench_noop", jobs);
  const runner: Runner = await run({
    connectionString: ownerUrl,
    concurrency,
    noHandleSignals: true,
    logger: workerLogger(logger),
    events,
    taskList: { bench_noop: async () => {} },
    preset: workerPreset,
  });
  const cpu = cpuWindow({ worker: process.pid });
  const started = performance.now();
  await db.root.query(
    `select graphile_worker.add_jobs(array_agg(
       row('bench_noop', json_build_object('i', i), null, null, null, null, null, null)::graphile_worker.job_spec))
     from generate_series(1, $1) i`,
    [jobs],
  );
  const enqueueSeconds = (performance.now() - started) / 1000;
  await watch.finished;
  const seconds = (watch.lastAt() - started) / 1000;
  const cpuMs = cpu.since();
  await runner.stop();
  await queueEmpty("bench_noop");
  return { seconds, enqueueSeconds, cpuMs, jobs: watch.check("no-op") };
}

/**
 * The modules with every consumer's work taken out: each still runs, behind its savepoint, and
 * records its delivery, so what is left to measure is the outbox's own machinery.
 */
const HOLLOW_MODULES: readonly ModuleManifest[] = MODULES.map((module) => ({
  ...module,
  consumers:
    module.consumers &&
    Object.fromEntries(
      Object.entries(module.consumers).map(([type, consumers]) => [
        type,
        consumers.map((consumer) => ({ name: consumer.name, handle: async () => {} })),
      ]),
    ),
}));

/** Tessera's worker draining the domain events of N new tenants (`hollow`: consumers that do nothing). */
async function drainOutbox(hollow = false): Promise<Drain> {
  const worker = await startWorker({
    connectionString: ownerUrl,
    concurrency,
    logger,
    mail: { ...config.mail, smtpUrl: undefined },
    modules: hollow ? HOLLOW_MODULES : MODULES,
    config,
  });
  const watch = watchJobs(worker.events, "domain_event", jobs);
  const prefix = `outbox-${Date.now().toString(36)}`;
  const cpu = cpuWindow({ worker: process.pid });
  const started = performance.now();
  await db.root.query(
    `insert into app_public.tenants (slug, name)
     select $1 || '-' || i, 'Outbox bench ' || i from generate_series(1, $2) i`,
    [prefix, jobs],
  );
  const enqueueSeconds = (performance.now() - started) / 1000;
  await watch.finished;
  const seconds = (watch.lastAt() - started) / 1000;
  const cpuMs = cpu.since();
  await worker.stop();
  await queueEmpty("domain_event");
  const carried = watch.check("outbox");
  await checkConsumers(prefix, hollow);
  return { seconds, enqueueSeconds, cpuMs, jobs: carried };
}

/** Every new tenant's event delivered once to each consumer, and (unless hollow) their effects there. */
async function checkConsumers(prefix: string, hollow: boolean): Promise<void> {
  const { rows } = await db.root.query(
    `with mine as (select id from app_public.tenants where slug like $1 || '-%'),
       events as (select e.id from app_private.domain_events e join mine on mine.id = e.tenant_id
                  where e.type = 'tenant_created')
     select (select count(*)::int from mine) as tenants, (select count(*)::int from events) as events,
       (select count(*)::int from app_private.domain_event_deliveries d join events e on e.id = d.event_id)
         as deliveries,
       (select count(*)::int from mine where not exists
          (select 1 from app_public.roles r where r.tenant_id = mine.id and r.name = 'owner')) as without_roles,
       (select count(*)::int from mine where not exists
          (select 1 from app_public.tenant_modules m where m.tenant_id = mine.id)) as without_modules`,
    [prefix],
  );
  const r = rows[0];
  const effects = hollow
    ? r.without_roles === jobs && r.without_modules === jobs
    : !r.without_roles && !r.without_modules;
  if (r.tenants !== jobs || r.events !== jobs || r.deliveries !== 2 * jobs || !effects) {
    throw new Error(`outbox consumers incomplete: ${JSON.stringify(r)}`);
  }
}

/** One drain's line; `jobs` items (no-op jobs or domain events) per second. */
function line(label: string, drain: Drain): number {
  const rate = jobs / drain.seconds;
  const carriers = drain.jobs === jobs ? "" : ` in ${drain.jobs} batch jobs`;
  process.stdout.write(
    `${label.padEnd(44)} ${jobs}${carriers} in ${drain.seconds.toFixed(2)} s` +
      ` (enqueue ${drain.enqueueSeconds.toFixed(2)} s)` +
      ` = ${Math.round(rate)}/s; CPU per item: worker ${(drain.cpuMs.worker! / jobs).toFixed(2)} ms,` +
      ` PostgreSQL ${(drain.cpuMs.postgres! / jobs).toFixed(2)} ms\n`,
  );
  return rate;
}

try {
  process.stdout.write(`concurrency ${concurrency}, local queue ${workerPreset.worker?.localQueue?.size}\n`);
  const noop = line("graphile-worker, no-op jobs", await drainNoop());
  const outbox = line("Tessera, tenant_created events → 2 consumers", await drainOutbox());
  const hollow = line("Tessera, tenant_created events → 2 empty ones", await drainOutbox(true));
  process.stdout.write(`ratio Tessera outbox / no-op: ${(outbox / noop).toFixed(2)}×\n`);
  process.stdout.write(`ratio Tessera outbox, empty consumers / no-op: ${(hollow / noop).toFixed(2)}×\n`);
} finally {
  await db.close({ drop: true });
}
