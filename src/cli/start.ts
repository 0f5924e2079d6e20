/**
 * `npm start`: everything in one process for development — the database (embedded unless
 * DATABASE_URL is set), migrations, demo data, the modules' development services (outside stage and
 * prod), the API and the worker.
 */
import { bootWithTracing, onShutdown } from "./boot.ts";

const { config, logger, modules, stopTracing } = await bootWithTracing("tessera");
const started = performance.now();
const { startAll } = await import("../platform/app.ts");
const starting = startAll({
  config,
  logger,
  modules,
  seed: !config.isProduction,
  worker: true,
  migrate: true,
  devServices: !config.isProduction,
});
// From the start: a Ctrl-C while the cluster starts, migrations run or the demo data is written
// waits for the start to end, then stops what it started. Before, Node's default ended the process
// at once and left the embedded cluster running, for every later command to attach to.
onShutdown(logger, async () => {
  const app = await starting.catch(() => undefined);
  await app?.stop();
  await stopTracing();
});
const app = await starting;
logger.info({ ms: Math.round(performance.now() - started) }, "ready");
process.stdout.write(app.banner);
