/**
 * Starts graphile-worker with our tasks and crontab, in-process or as its own process: two
 * runners on one pool of connections and one event emitter —
 *
 * - "jobs": every task but e-mail, and the crontab, with WORKER_CONCURRENCY slots;
 * - "mail": send_email only, with MAIL_CONCURRENCY slots and the pooled SMTP transport.
 *
 * A graphile-worker runner only fetches jobs of the tasks in its own list, so a slow or silent SMTP
 * server can fill the mail slots but never delay a reminder, a domain event or the heartbeat cron.
 * Both runners' pools beat in app_private.worker_pools (./liveness.ts).
 */
import { EventEmitter } from "node:events";
import { run, type Runner, type TaskList, type WorkerEvents } from "graphile-worker";
import type { Config, MailConfig, WorkerLivenessConfig } from "../config.ts";
import { workerLogger } from "../db/migrate.ts";
import { newPool } from "../db/pools.ts";
import { createSmtpTransport, MAIL_DEFAULTS } from "../email/transport.ts";
import type { Logger } from "../logger.ts";
import { LIVENESS_DEFAULTS, startLiveness } from "./liveness.ts";
import { holdLocalQueuesOpen } from "./localQueueRelease.ts";
import { registerModules, type ModuleManifest } from "../modules.ts";
import { MAIL_TASK_NAMES, makeCrontab, makeTaskList } from "./registry.ts";

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

/** Mail jobs are slow: no batch, a job is locked only once a slot is free to send it. */
const mailPreset: GraphileConfig.Preset = {
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
}

/**
 * Returns one Runner for both: `events` carries the jobs of both (metrics observe it), `stop()`
 * stops both, lets running jobs finish, then closes the SMTP and database pools.
 */
export async function startWorker(options: WorkerOptions): Promise<Runner> {
  const { logger, mail } = options;
  registerModules(options.modules);
  const mailConcurrency = mail.concurrency ?? MAIL_DEFAULTS.concurrency;
  // Our own pool: graphile-worker's would be ended without waiting and lose its error listeners at
  // stop(), so a connection dying just after (a dropped test database) crashed the process.
  const pgPool = newPool(
    { connectionString: options.connectionString, max: Math.max(10, options.concurrency + mailConcurrency + 4) },
    logger,
    "worker",
  );
  const events: WorkerEvents = new EventEmitter();
  holdLocalQueuesOpen(events);
  const liveness = startLiveness(pgPool, events, logger, options.liveness ?? LIVENESS_DEFAULTS);
  const transport = mail.smtpUrl ? createSmtpTransport({ ...mail, smtpUrl: mail.smtpUrl }) : undefined;
  const all: TaskList = makeTaskList({ modules: options.modules, mail, logger, transport, config: options.config });
  const isMail = (name: string) => MAIL_TASK_NAMES.includes(name);
  const common = { pgPool, events, noHandleSignals: true, logger: workerLogger(logger) } as const;
  const runners: Runner[] = [];
  let released: Promise<void> | undefined;
  const release = () =>
    (released ??= (async () => {
      await liveness.stop();
      transport?.close();
      await pgPool.end();
    })());
  try {
    // Each pool is created inside run(): the label tells liveness which runner it belongs to.
    liveness.label = "jobs";
    runners.push(
      await run({
        ...common,
        concurrency: options.concurrency,
        taskList: Object.fromEntries(Object.entries(all).filter(([name]) => !isMail(name))),
        parsedCronItems: makeCrontab(options.modules),
        preset: workerPreset,
      }),
    );
    liveness.label = "mail";
    runners.push(
      await run({
        ...common,
        concurrency: mailConcurrency,
        taskList: Object.fromEntries(Object.entries(all).filter(([name]) => isMail(name))),
        parsedCronItems: [],
        preset: mailPreset,
      }),
    );
  } catch (error) {
    await Promise.allSettled(runners.map((runner) => runner.stop()));
    await release();
    throw error;
  }
  const [jobs, mailRunner] = runners as [Runner, Runner];
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // allSettled: one runner may have ended on its own (an error it logged); stop the other.
      const outcomes = await Promise.allSettled(runners.map((runner) => runner.stop()));
      for (const outcome of outcomes)
        if (outcome.status === "rejected") logger.warn({ err: outcome.reason }, "worker runner stop failed");
      await release();
    })());
  return {
    stop,
    async kill(reason?: string) {
      await Promise.all(runners.map((runner) => runner.kill(reason)));
      await release();
    },
    addJob: jobs.addJob,
    promise: Promise.all([jobs.promise, mailRunner.promise]).then(() => undefined),
    events,
    [Symbol.asyncDispose]: stop,
  };
}
