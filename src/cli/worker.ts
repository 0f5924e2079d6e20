/** `npm run worker`: the job worker and cron alone. */
import { bootWithTracing, onShutdown } from "./boot.ts";

const { config, logger, modules, stopTracing } = await bootWithTracing("tessera-worker");
const started = performance.now();
const { startAll } = await import("../platform/app.ts");
const app = await startAll({
  config,
  logger,
  modules,
  seed: false,
  worker: true,
  server: false,
  migrate: !config.database,
});
onShutdown(logger, async () => {
  await app.stop();
  await stopTracing();
});
logger.info({ concurrency: config.workerConcurrency, ms: Math.round(performance.now() - started) }, "worker ready");
