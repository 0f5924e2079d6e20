/** A real Tessera HTTP server on a random port, over a database of the test file's own. */
import type { AddressInfo } from "node:net";
import type { Runner } from "graphile-worker";
import { createClient, type Client } from "graphql-ws";
import pg from "pg";
import WebSocket from "ws";
import { loadConfig, MODULES } from "../../src/modules/index.ts";
import type { Config } from "../../src/platform/config.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { createTesseraServer, type TesseraServer } from "../../src/platform/server.ts";
import { startWorker } from "../../src/platform/worker/runner.ts";
import { createTestDatabase, type TestDatabase } from "./database.ts";
import { type ResponseCheck, watchResponses } from "./openapiCheck.ts";
import { TEST_JWT_SECRET } from "./fixtures.ts";
import { until } from "./wait.ts";

export interface TestApp {
  url: string;
  wsUrl: string;
  config: Config;
  server: TesseraServer;
  db: TestDatabase;
  /** Checks every answer of a documented REST route against the OpenAPI document (off: undefined). */
  openapi?: ResponseCheck;
  /** POST /graphql with an optional bearer token; returns status and body. */
  graphql(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
  ): Promise<{ status: number; body: GraphQLBody }>;
  /** A graphql-ws client; `authorization` goes into connection_init's payload. */
  wsClient(token?: string): Client;
  stop(): Promise<void>;
}

export interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

export interface TestAppOptions {
  worker?: boolean;
  /** The worker's poll for unannounced due jobs (default 2 s); see `WorkerOptions.pollIntervalMs`. */
  workerPollIntervalMs?: number;
  env?: Record<string, string>;
  /** Behave as APP_ENV=prod (no Ruru, masked errors) while using the test database. */
  production?: boolean;
  /** Receives every log line (at debug level) of the server and its worker. */
  logLines?: string[];
  /** Runs on the fresh database before the server starts (and reads the schema). */
  prepareDatabase?: (db: TestDatabase) => Promise<void>;
  /**
   * Check every answer of a documented REST route against the OpenAPI document; `stop()` then fails
   * listing what did not conform (test/helpers/openapiCheck.ts). On unless false.
   */
  openapiCheck?: boolean;
  /** Bytes of GraphQL answers that may wait for their clients (the server's MAX_UNSENT_BYTES otherwise). */
  maxUnsentBytes?: number;
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const db = await createTestDatabase();
  await options.prepareDatabase?.(db);
  const loaded = loadConfig({ APP_ENV: "test", JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: "silent", ...options.env });
  const config: Config = {
    ...loaded,
    // As APP_ENV=prod would: introspection (and Ruru) off unless GRAPHQL_INTROSPECTION says otherwise.
    ...(options.production
      ? { graphql: { ...loaded.graphql, introspection: options.env?.GRAPHQL_INTROSPECTION === "true" } }
      : {}),
    ...(options.production ? { env: "prod", isProduction: true } : {}),
    database: db.urls,
  };
  const logLines = options.logLines;
  const logger = logLines
    ? createLogger("debug", "tessera", { write: (line: string) => void logLines.push(line) })
    : createLogger(process.env.TEST_LOG_LEVEL ?? "silent");
  const server = await createTesseraServer({
    modules: MODULES,
    config,
    database: db.urls,
    logger,
    maxUnsentBytes: options.maxUnsentBytes,
  });
  const openapi =
    options.openapiCheck === false ? undefined : watchResponses(server.httpServer, server.openApiDocument);
  // fetch keeps idle connections for the next request; with the server's 5 s keep-alive timeout, a
  // test process too busy to see the server close one (two suites on two cores) sends its next
  // request on it and fails with ECONNRESET: the client's race, not an answer of the server's.
  // Idle connections stay open for the test's length instead; stop() closes them.
  server.httpServer.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.httpServer.listen(0, "127.0.0.1", resolve));
  const { port } = server.httpServer.address() as AddressInfo;
  let worker: Runner | undefined;
  if (options.worker) {
    worker = await startWorker({
      modules: MODULES,
      connectionString: db.urls.ownerUrl,
      concurrency: 2,
      logger,
      mail: config.mail,
      config,
      pollIntervalMs: options.workerPollIntervalMs,
    });
    server.metrics.observeWorker(worker);
  }
  const url = `http://127.0.0.1:${port}`;
  const wsUrl = `ws://127.0.0.1:${port}/graphql`;
  const clients: Client[] = [];
  return {
    url,
    wsUrl,
    config,
    server,
    db,
    openapi,
    async graphql(query, variables, token) {
      const response = await fetch(`${url}/graphql`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, body: (await response.json()) as GraphQLBody };
    },
    wsClient(token) {
      const client = createClient({
        url: wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: token ? { authorization: `Bearer ${token}` } : {},
        retryAttempts: 0,
        lazy: false,
      });
      clients.push(client);
      return client;
    },
    async stop() {
      await Promise.all(clients.map((client) => client.dispose()));
      await worker?.stop();
      await server.close();
      await db.drop();
      // After everything is released, so that a violation never leaves a server running.
      openapi?.assertConforms();
    },
  };
}

/** The first thing a graphql-ws operation yields: `{ next }`, `{ error }` or `{ complete }`. */
export function firstOutcome(
  client: Client,
  query: string,
): Promise<{ next?: unknown; error?: unknown; complete?: true }> {
  return new Promise((resolve) => {
    client.subscribe(
      { query },
      {
        next: (value) => resolve({ next: value }),
        error: (error) => resolve({ error }),
        complete: () => resolve({ complete: true }),
      },
    );
  });
}

/**
 * Resolves once the server's subscription connection has run `LISTEN "<channel>"` to completion,
 * seen in pg_stat_activity (the LISTEN connection's last statement, now idle): from then on a
 * NOTIFY on the channel reaches the subscription. Call it right after subscribing, one channel at
 * a time: a later statement on that connection replaces the one shown.
 */
export async function listening(app: TestApp, channel: string, timeoutMs = 20_000): Promise<void> {
  const statement = `LISTEN ${pg.escapeIdentifier(channel)}`;
  await until(
    async () => {
      const { rows } = await app.db.rootPool.query(
        "select 1 from pg_stat_activity where datname = current_database() and state = 'idle' and query = $1",
        [statement],
      );
      return rows.length > 0;
    },
    `the server to run ${statement}`,
    timeoutMs,
  );
}
