/** `npm run server`: the API alone (production runs the worker as its own process). */
import { bootWithTracing, onShutdown } from "./boot.ts";

const { config, logger, modules, stopTracing } = await bootWithTracing("tessera-api");
const { startAll } = await import("../platform/app.ts");
const app = await startAll({ config, logger, modules, seed: false, worker: false, migrate: !config.database });
onShutdown(logger, async () => {
  await app.stop();
  await stopTracing();
});
