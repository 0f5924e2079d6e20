/**
 * `npm start`: everything in one process for development — the database (embedded unless
 * DATABASE_URL is set), migrations, demo data, the modules' development services (outside stage and
 * prod), the API and the worker.
 */
import { bootWithTracing, onShutdown } from "./boot.ts";

const { config, logger, modules, stopTracing } = await bootWithTracing("tessera");
const started = performance.now();
const { startAll } = await import("../platform/app.ts");
const app = await startAll({
  config,
  logger,
  modules,
  seed: !config.isProduction,
  worker: true,
  migrate: true,
  devServices: !config.isProduction,
});
onShutdown(logger, async () => {
  await app.stop();
  await stopTracing();
});
logger.info({ ms: Math.round(performance.now() - started) }, "ready");
process.stdout.write(app.banner);
