/** Starts the parts a command asks for and returns one function that stops them all, in order. */
import type { Runner } from "graphile-worker";
import { StartupError, type Config } from "./config.ts";
import { migrateDatabase } from "./db/migrate.ts";
import { withClient } from "./db/pools.ts";
import { resolveDatabase } from "./db/resolve.ts";
import { checkRuntimeRoles } from "./db/roleCheck.ts";
import { seedDemo, type DemoData } from "./db/seed.ts";
import type { Logger } from "./logger.ts";
import { freePort, listenRefusal } from "./system.ts";
import type { DevService, ModuleManifest } from "./modules.ts";
import { createTesseraServer, type TesseraServer } from "./server.ts";
import { startWorker } from "./worker/runner.ts";

export interface StartOptions {
  config: Config;
  logger: Logger;
  modules: readonly ModuleManifest[];
  migrate: boolean;
  seed: boolean;
  worker: boolean;
  server?: boolean;
  /** Start the modules' development services (`npm start` outside stage and prod). */
  devServices?: boolean;
}

export interface Started {
  stop(): Promise<void>;
  banner: string;
  /** The port the API listens on (the one chosen for PORT=0). */
  port: number;
}

/** Starts every module's development service; their configuration changes carry over to the next. */
async function startDevServices(
  options: StartOptions,
): Promise<{ config: Config; banner: string[]; stop(): Promise<void> }> {
  const started: DevService[] = [];
  let config = options.config;
  const stop = async () => {
    for (const service of started.reverse()) await service.stop();
  };
  try {
    for (const module of options.modules) {
      const service = await module.devService?.({
        config,
        logger: options.logger,
        apiUrl: `http://127.0.0.1:${config.port}`,
      });
      if (!service) continue;
      started.push(service);
      config = service.config ?? config;
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { config, banner: started.flatMap((service) => service.banner ?? []), stop };
}

export async function startAll(given: StartOptions): Promise<Started> {
  // PORT=0 asks for any free port: it is chosen now, so that the banner and the development services
  // (the mock payment provider's webhook URL) name the port the API will listen on, not port 0.
  const options =
    given.config.port === 0 && given.server !== false
      ? { ...given, config: { ...given.config, port: await freePort() } }
      : given;
  const { logger, modules } = options;
  const database = await resolveDatabase(options.config, logger);
  let dev: Awaited<ReturnType<typeof startDevServices>> | undefined;
  let server: TesseraServer | undefined;
  let worker: Runner | undefined;
  const stop = async () => {
    // A command started meanwhile must not attach to an embedded cluster about to stop.
    database.stopping();
    // Stop taking work first — requests and jobs at once: the worker starts no job while HTTP
    // drains, and the drain and the running jobs share one wait — then close the database.
    await Promise.all([server?.close(), worker?.stop()]);
    await dev?.stop();
    await database.stop();
  };
  let config = options.config;
  let demo: DemoData | undefined;
  try {
    if (options.migrate) await migrateDatabase(database.urls, logger);
    const serves = options.server !== false;
    await checkRuntimeRoles(database.urls, { hardened: options.config.isProduction, server: serves }, logger);
    if (options.devServices) dev = await startDevServices(options);
    config = dev?.config ?? config;
    if (options.seed) {
      const seedConfig = config;
      demo = await withClient(database.urls.ownerUrl, logger, "seed", (client) =>
        seedDemo(modules, client, seedConfig.isProduction, seedConfig),
      );
    }
    if (options.server !== false) {
      server = await createTesseraServer({ config, database: database.urls, logger, modules });
      await listen(server, config.port);
    }
    if (options.worker) {
      worker = await startWorker({
        connectionString: database.urls.ownerUrl,
        concurrency: config.workerConcurrency,
        logger,
        mail: config.mail,
        liveness: config.workerLiveness,
        modules,
        config,
        preparedStatements: database.urls.preparedStatements,
      });
      server?.metrics.observeWorker(worker);
    }
  } catch (error) {
    // What did start is stopped (the embedded cluster included), so the process can exit cleanly.
    await stop().catch((stopError: unknown) => logger.error({ err: stopError }, "stopping after a failed start"));
    throw error;
  }
  const base = config.publicUrl ?? `http://localhost:${config.port}`;
  const banner = [
    "",
    `Tessera is running (${config.env}${database.embedded ? ", embedded PostgreSQL" : ""})`,
    server ? `  GraphQL   ${base}/graphql  (WebSocket subscriptions on the same path)` : "",
    server && !config.isProduction ? `  Ruru      ${base}/graphiql` : "",
    server ? `  REST      ${base}/openapi.json  (Swagger UI ${base}/swagger-ui)` : "",
    server ? `  Ready     ${base}/ready` : "",
    worker ? `  Worker    in-process, concurrency ${config.workerConcurrency}` : "",
    ...(demo?.banner ?? []).map((line) => `  Demo      ${line.replaceAll("{base}", base)}`),
    ...(dev?.banner ?? []).map((line) => `  ${line}`),
    "",
  ]
    .filter((line, index, all) => line !== "" || index === 0 || index === all.length - 1)
    .join("\n");
  return {
    banner: `${banner}\n`,
    stop,
    port: config.port,
  };
}

/** Listens on PORT; a port that cannot be had is the operator's matter (StartupError, one line). */
function listen(server: TesseraServer, port: number): Promise<void> {
  const { httpServer } = server;
  return new Promise<void>((resolve, reject) => {
    const refuse = (error: Error) => reject(new StartupError(listenRefusal("PORT", port, error)));
    httpServer.once("error", refuse);
    httpServer.listen(port, () => {
      httpServer.off("error", refuse);
      resolve();
    });
  });
}
