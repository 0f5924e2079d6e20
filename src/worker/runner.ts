/** Starts graphile-worker with our tasks and crontab, in-process or as its own process. */
import { run, type Runner } from "graphile-worker";
import type { Logger } from "../logger.ts";
import { workerLogger } from "../db/migrate.ts";
import { crontab, taskList } from "./registry.ts";

export interface WorkerOptions {
  connectionString: string;
  concurrency: number;
  logger: Logger;
}

export async function startWorker(options: WorkerOptions): Promise<Runner> {
  return run({
    connectionString: options.connectionString,
    concurrency: options.concurrency,
    taskList,
    parsedCronItems: crontab,
    noHandleSignals: true,
    logger: workerLogger(options.logger),
    // Batching options only take effect in the preset form (plain run() options are ignored).
    preset: {
      worker: {
        localQueue: { size: 500 },
        completeJobBatchDelay: 0,
        failJobBatchDelay: 0,
      },
    },
  });
}
