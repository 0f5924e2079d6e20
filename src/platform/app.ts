/** Starts the parts a command asks for and returns one function that stops them all, in order. */
import type { Runner } from "graphile-worker";
import pg from "pg";
import type { Config } from "./config.ts";
import { migrateDatabase } from "./db/migrate.ts";
import { watchClient } from "./db/pools.ts";
import { resolveDatabase } from "./db/resolve.ts";
import { DEMO_PASSWORD, seedDemo, type DemoTenant } from "./db/seed.ts";
import type { Logger } from "./logger.ts";
import { createTesseraServer, type TesseraServer } from "./server.ts";
import { startWorker } from "./worker/runner.ts";

export interface StartOptions {
  config: Config;
  logger: Logger;
  migrate: boolean;
  seed: boolean;
  worker: boolean;
  server?: boolean;
}

export interface Started {
  stop(): Promise<void>;
  banner: string;
}

export async function startAll(options: StartOptions): Promise<Started> {
  const { config, logger } = options;
  const database = await resolveDatabase(config, logger);
  if (options.migrate) await migrateDatabase(database.urls, logger);
  let demo: DemoTenant | undefined;
  if (options.seed) {
    const client = watchClient(new pg.Client({ connectionString: database.urls.ownerUrl }), logger, "seed");
    await client.connect();
    try {
      demo = await seedDemo(client, config.isProduction);
    } finally {
      await client.end();
    }
  }
  let server: TesseraServer | undefined;
  if (options.server !== false) {
    server = await createTesseraServer({ config, database: database.urls, logger });
    await new Promise<void>((resolve) => server!.httpServer.listen(config.port, resolve));
  }
  let worker: Runner | undefined;
  if (options.worker) {
    worker = await startWorker({ connectionString: database.urls.ownerUrl, concurrency: config.workerConcurrency, logger, mail: config.mail, liveness: config.workerLiveness });
    server?.metrics.observeWorker(worker);
  }
  const base = config.publicUrl ?? `http://localhost:${config.port}`;
  const banner = [
    "",
    `Tessera is running (${config.env}${database.embedded ? ", embedded PostgreSQL" : ""})`,
    server ? `  GraphQL   ${base}/graphql  (WebSocket subscriptions on the same path)` : "",
    server && !config.isProduction ? `  Ruru      ${base}/graphiql` : "",
    server ? `  Ready     ${base}/ready` : "",
    worker ? `  Worker    in-process, concurrency ${config.workerConcurrency}` : "",
    demo ? `  Demo      tenant "demo": ${demo.users.map((u) => `${u.email} (${u.role})`).join(", ")}, password ${DEMO_PASSWORD}` : "",
    "",
  ]
    .filter((line, index, all) => line !== "" || index === 0 || index === all.length - 1)
    .join("\n");
  return {
    banner: `${banner}\n`,
    async stop() {
      // Stop taking work first, then let running jobs finish, then close the database.
      await server?.close();
      await worker?.stop();
      await database.stop();
    },
  };
}
