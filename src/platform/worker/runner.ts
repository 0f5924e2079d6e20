/**
 * Starts graphile-worker with our tasks and crontab, in-process or as its own process: several
 * runners on one pool of connections and one event emitter —
 *
 * - "jobs": every task no other runner claims, and the crontab, with WORKER_CONCURRENCY slots;
 * - "mail": send_email only, with MAIL_CONCURRENCY slots and the pooled SMTP transport;
 * - each module's own runners (`ModuleManifest.runners`: subscriptions' "contms"), for tasks that
 *   wait on one outside service, with the slots the module's configuration gives.
 *
 * A graphile-worker runner only fetches jobs of the tasks in its own list, so a slow or silent SMTP
 * server or provider can fill its runner's slots but never delay a reminder, a domain event or the
 * heartbeat cron. Every runner's pool beats in app_private.worker_pools (./liveness.ts); a runner
 * that ends on its own (a job's outcome it could not write while the database was away) is started
 * again (./supervisor.ts).
 */
import { EventEmitter } from "node:events";
import {
  type ParsedCronItem,
  run,
  type Runner,
  type RunnerOptions,
  type TaskList,
  type WorkerEvents,
} from "graphile-worker";
import type { Config, MailConfig, WorkerLivenessConfig } from "../config.ts";
import { workerLogger } from "../db/migrate.ts";
import { newPool } from "../db/pools.ts";
import { createSmtpTransport, MAIL_DEFAULTS } from "../email/transport.ts";
import type { Logger } from "../logger.ts";
import { LIVENESS_DEFAULTS, startLiveness } from "./liveness.ts";
import { refetchAfterCollidingFetches } from "./fetchCollisions.ts";
import { holdLocalQueuesOpen } from "./localQueueRelease.ts";
import { registerModules, type ModuleManifest } from "../modules.ts";
import { allTaskNames, MAIL_TASK_NAMES, makeCrontab, makeTaskList, moduleRunners } from "./registry.ts";
import { type Supervised, supervise } from "./supervisor.ts";

/**
 * Local-queue batching for the "jobs" runner (bench/worker-throughput.ts measures it against
 * unbatched). Only the preset form applies: as plain run() options it is ignored. The batch is
 * small: every job in it is locked by this process until it runs, and a process that dies holds
 * them until its heartbeat goes stale.
 */
export const workerPreset: GraphileConfig.Preset = {
  worker: {
    localQueue: { size: 200 },
    completeJobBatchDelay: 0,
    failJobBatchDelay: 0,
  },
};

/**
 * For the runners of slow jobs (mail, the modules' own): no batch, a job is locked only once a slot
 * is free to run it.
 */
const slowJobsPreset: GraphileConfig.Preset = {
  worker: { localQueue: { size: -1 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 },
};

export interface WorkerOptions {
  connectionString: string;
  concurrency: number;
  logger: Logger;
  mail: MailConfig;
  /** The modules whose tasks, consumers, crontab lines and e-mail templates the worker runs. */
  modules: readonly ModuleManifest[];
  /** Heartbeat and dead-worker threshold; defaults 10 s and 60 s. */
  liveness?: WorkerLivenessConfig;
  /** Handed to module tasks (their settings); see `TaskContext`. */
  config?: Config;
  /** false: no named prepared statements (DATABASE_PREPARED_STATEMENTS; `newPool`). Default true. */
  preparedStatements?: boolean;
  /**
   * How often an idle runner looks for due jobs that nothing announced (graphile-worker's
   * `pollInterval`; default 2 s): scheduled jobs and retries. New jobs and freed queues are announced.
   */
  pollIntervalMs?: number;
}

/**
 * Returns one Runner for them all: `events` carries the jobs of every runner (metrics observe it),
 * `stop()` stops them all, lets running jobs finish, then closes the SMTP and database pools.
 */
export async function startWorker(options: WorkerOptions): Promise<Runner> {
  const { logger, mail } = options;
  registerModules(options.modules);
  const runners = runnerPlans(options);
  const slots = runners.reduce((sum, runner) => sum + runner.concurrency, 0);
  // Our own pool: graphile-worker's would be ended without waiting and lose its error listeners at
  // stop(), so a connection dying just after (a dropped test database) crashed the process. Each
  // runner also holds one connection for LISTEN; two more for liveness and the crontab.
  const pgPool = newPool(
    { connectionString: options.connectionString, max: Math.max(10, slots + runners.length + 2) },
    logger,
    "worker",
    { preparedStatements: options.preparedStatements },
  );
  const events: WorkerEvents = new EventEmitter();
  holdLocalQueuesOpen(events);
  refetchAfterCollidingFetches(events);
  const liveness = startLiveness(pgPool, events, logger, options.liveness ?? LIVENESS_DEFAULTS);
  const transport = mail.smtpUrl ? createSmtpTransport({ ...mail, smtpUrl: mail.smtpUrl }) : undefined;
  const all: TaskList = makeTaskList({ modules: options.modules, mail, logger, transport, config: options.config });
  const polling: GraphileConfig.Preset = options.pollIntervalMs
    ? { worker: { pollInterval: options.pollIntervalMs } }
    : {};
  const common = {
    pgPool,
    events,
    noHandleSignals: true,
    noPreparedStatements: options.preparedStatements === false,
    logger: workerLogger(logger),
  } as const;
  const parts: Supervised[] = [];
  let released: Promise<void> | undefined;
  const release = () =>
    (released ??= (async () => {
      await liveness.stop();
      transport?.close();
      await pgPool.end();
    })());
  // One start at a time: the pool is created inside run(), and the label tells liveness which
  // runner it belongs to.
  let starting: Promise<unknown> = Promise.resolve();
  const starter = (label: string, options: RunnerOptions) => () => {
    const started = starting.then(() => {
      liveness.label = label;
      return run({ ...common, ...options });
    });
    starting = started.catch(() => undefined);
    return started;
  };
  try {
    for (const runner of runners) {
      const runnerOptions: RunnerOptions = {
        concurrency: runner.concurrency,
        taskList: Object.fromEntries(runner.tasks.map((name) => [name, all[name]!])),
        parsedCronItems: runner.crontab,
        preset: { extends: [runner.preset, polling] },
      };
      parts.push(await supervise(runner.name, starter(runner.name, runnerOptions), logger));
    }
  } catch (error) {
    await Promise.allSettled(parts.map((part) => part.stop()));
    await release();
    throw error;
  }
  const [jobs] = parts as [Supervised, ...Supervised[]];
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // allSettled: one runner's stop may fail (an error it logged); stop the others all the same.
      const outcomes = await Promise.allSettled(parts.map((part) => part.stop()));
      for (const outcome of outcomes)
        if (outcome.status === "rejected") logger.warn({ err: outcome.reason }, "worker runner stop failed");
      await release();
    })());
  return {
    stop,
    async kill(reason?: string) {
      await Promise.all(parts.map((part) => part.kill(reason)));
      await release();
    },
    addJob(...args) {
      if (!jobs.current) throw new Error("the worker's jobs runner is starting again; add the job in a moment");
      return jobs.current.addJob(...args);
    },
    promise: Promise.all(parts.map((part) => part.ended)).then(() => undefined),
    events,
    [Symbol.asyncDispose]: stop,
  };
}

interface RunnerPlan {
  name: string;
  tasks: readonly string[];
  concurrency: number;
  crontab: ParsedCronItem[];
  preset: GraphileConfig.Preset;
}

/**
 * "jobs" (first: it adds the jobs of `addJob`; it alone runs the crontab, batched), "mail", then the
 * modules' own runners (slow jobs: no batch).
 */
function runnerPlans(options: WorkerOptions): RunnerPlan[] {
  const slow = { crontab: [], preset: slowJobsPreset };
  const own: RunnerPlan[] = [...moduleRunners(options.modules)].map(([name, runner]) => ({
    name,
    tasks: runner.tasks,
    concurrency: runner.concurrency(options.config),
    ...slow,
  }));
  const claimed = new Set([...MAIL_TASK_NAMES, ...own.flatMap((runner) => runner.tasks)]);
  return [
    {
      name: "jobs",
      tasks: allTaskNames(options.modules).filter((name) => !claimed.has(name)),
      concurrency: options.concurrency,
      crontab: makeCrontab(options.modules),
      preset: workerPreset,
    },
    {
      name: "mail",
      tasks: MAIL_TASK_NAMES,
      concurrency: options.mail.concurrency ?? MAIL_DEFAULTS.concurrency,
      ...slow,
    },
    ...own,
  ];
}
