/** `npm run worker`: the job worker and cron alone. */
import { boot, onShutdown } from "./boot.ts";

const { config, logger } = boot("tessera-worker");
const { startAll } = await import("../app.ts");
const app = await startAll({ config, logger, seed: false, worker: true, server: false, migrate: !config.database });
onShutdown(logger, app.stop);
