/** Starts graphile-worker with our tasks and crontab, in-process or as its own process. */
import { run, type Runner } from "graphile-worker";
import type { Logger } from "../logger.ts";
import { workerLogger } from "../db/migrate.ts";
import { newPool } from "../db/pools.ts";
import type { MailConfig } from "../config.ts";
import { crontab, makeTaskList } from "./registry.ts";

/**
 * Local-queue batching (~11× the unbatched throughput measured on a 2-core machine; see
 * bench/worker-throughput.ts). Only the preset form applies: as plain run() options it is ignored.
 */
export const workerPreset: GraphileConfig.Preset = {
  worker: {
    localQueue: { size: 500 },
    completeJobBatchDelay: 0,
    failJobBatchDelay: 0,
  },
};

export interface WorkerOptions {
  connectionString: string;
  concurrency: number;
  logger: Logger;
  mail: MailConfig;
}

export async function startWorker(options: WorkerOptions): Promise<Runner> {
  // Our own pool: graphile-worker's would be ended without waiting and lose its error listeners at
  // stop(), so a connection dying just after (a dropped test database) crashed the process.
  const pgPool = newPool({ connectionString: options.connectionString, max: Math.max(10, options.concurrency + 2) }, options.logger, "worker");
  let runner: Runner;
  try {
    runner = await run({
      pgPool,
      concurrency: options.concurrency,
      taskList: makeTaskList({ mail: options.mail, logger: options.logger }),
      parsedCronItems: crontab,
      noHandleSignals: true,
      logger: workerLogger(options.logger),
      preset: workerPreset,
    });
  } catch (error) {
    await pgPool.end();
    throw error;
  }
  const stop = async (reason?: string) => {
    await runner.stop(reason);
    await pgPool.end();
  };
  return { ...runner, stop, [Symbol.asyncDispose]: () => stop() };
}
