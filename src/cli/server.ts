/** `npm run server`: the API alone (production runs the worker as its own process). */
import { boot, onShutdown } from "./boot.ts";

const { config, logger } = boot("tessera-api");
const { startAll } = await import("../app.ts");
const app = await startAll({ config, logger, seed: false, worker: false, migrate: !config.database });
onShutdown(logger, app.stop);
