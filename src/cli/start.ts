/**
 * `npm start`: everything in one process for development — the database (embedded unless
 * DATABASE_URL is set), migrations, demo data, the API and the worker.
 */
import { boot, onShutdown } from "./boot.ts";

const { config, logger } = boot("tessera");
const started = performance.now();
const { startAll } = await import("../app.ts");
const app = await startAll({ config, logger, seed: !config.isProduction, worker: true, migrate: true });
onShutdown(logger, app.stop);
logger.info({ ms: Math.round(performance.now() - started) }, "ready");
process.stdout.write(app.banner);
