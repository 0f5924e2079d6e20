/**
 * Tessera as measured by `npm run bench:peers`: createTesseraServer in production mode, in its own
 * process, on the database the bench prepared (PEERS_SETUP: { urls }). The configuration is the
 * environment's, as `npm run server` reads it. Prints `{"port":N}` once listening.
 */
import { loadConfig, MODULES } from "../../src/modules/index.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { createTesseraServer } from "../../src/platform/server.ts";
import { readSetup } from "./setup.ts";

const { urls } = readSetup();
const config = loadConfig();
const tessera = await createTesseraServer({
  modules: MODULES,
  config: { ...config, isProduction: true },
  database: urls,
  logger: createLogger("warn"),
});
tessera.httpServer.listen(0, "127.0.0.1", () => {
  const address = tessera.httpServer.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === "object" ? address?.port : undefined })}\n`);
});
process.on("SIGTERM", () => {
  tessera.close().finally(() => process.exit(0));
});
