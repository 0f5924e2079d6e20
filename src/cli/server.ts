/** `npm run server`: the API alone (production runs the worker as its own process). */
import { bootWithTracing, onShutdown } from "./boot.ts";

const { config, logger, modules, stopTracing } = await bootWithTracing("tessera-api");
const started = performance.now();
const { startAll } = await import("../platform/app.ts");
const app = await startAll({ config, logger, modules, seed: false, worker: false, migrate: !config.database });
onShutdown(logger, async () => {
  await app.stop();
  await stopTracing();
});
// The one line that says the API is up (JSON like every other: no banner in a production log).
logger.info({ port: app.port, ms: Math.round(performance.now() - started) }, "API ready");
