/**
 * The PostgreSQL server the backup tests run on, and databases of their own on it. pg_dump and
 * pg_restore must be of the server's major version (src/modules/operations/pgTools.ts): the run's
 * own server when they are installed for it; otherwise BACKUP_TEST_DATABASE_URL, by default the
 * machine's PostgreSQL at 127.0.0.1:5432 as superuser `postgres` (the server .ci/run's second run
 * uses). The embedded PostgreSQL 18 ships no client programs, and Debian 12 has only version 15's.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { DatabaseUrls } from "../../../src/platform/config.ts";
import { databaseUrls, dropDatabase, ensureDatabase, ensureRoles } from "../../../src/platform/db/cluster.ts";
import { migrateDatabase } from "../../../src/platform/db/migrate.ts";
import { watchPool } from "../../../src/platform/db/pools.ts";
import { createLogger } from "../../../src/platform/logger.ts";
import { findTool, searchDirectories } from "../../../src/modules/operations/pgTools.ts";
import { ENV_ROOT_URL, testRoles } from "../../setup/testCluster.ts";

export const FALLBACK_SERVER_URL =
  process.env.BACKUP_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface BackupServer {
  /** Superuser connection string to the server's `postgres` database. */
  rootUrl: string;
  version: string;
}

export interface BackupDatabase {
  name: string;
  urls: DatabaseUrls;
  ownerPool: pg.Pool;
  /** Superuser pool on this database: reads every row, whatever its owner and policies. */
  rootPool: pg.Pool;
  drop(): Promise<void>;
}

/** The first server (the run's, then the fallback) whose pg_dump and pg_restore are installed. */
export async function backupServer(): Promise<BackupServer> {
  const tried: string[] = [];
  for (const rootUrl of [process.env[ENV_ROOT_URL], FALLBACK_SERVER_URL]) {
    if (!rootUrl) continue;
    const problem = await toolsProblem(rootUrl);
    if (typeof problem !== "string") return { rootUrl, version: problem.version };
    tried.push(`${new URL(rootUrl).host}: ${problem}`);
  }
  throw new Error(
    `No PostgreSQL server with its pg_dump and pg_restore for the backup tests (${tried.join("; ")}). ` +
      "Install the client programs of the test server's major version, or set BACKUP_TEST_DATABASE_URL.",
  );
}

async function toolsProblem(rootUrl: string): Promise<string | { version: string }> {
  const client = new pg.Client({ connectionString: rootUrl, connectionTimeoutMillis: 5_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ num: number; version: string }>(
      "select current_setting('server_version_num')::int as num, current_setting('server_version') as version",
    );
    const server = { major: Math.floor(rows[0]!.num / 10_000), version: rows[0]!.version };
    for (const tool of ["pg_dump", "pg_restore"] as const) await findTool(tool, server, searchDirectories(undefined));
    return { version: server.version };
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A database of the test's own on the server, owned by the test owner role: migrated (committed
 * migrations and `migrations/current/`, as the test template is), or empty, as a restore target.
 */
export async function createBackupDatabase(
  server: BackupServer,
  options: { migrated: boolean },
): Promise<BackupDatabase> {
  await ensureRoles(server.rootUrl, testRoles);
  const name = `tessera_backup_${randomBytes(5).toString("hex")}`;
  await ensureDatabase(server.rootUrl, name, testRoles);
  const urls = databaseUrls(server.rootUrl, name, testRoles);
  if (options.migrated) await migrateDatabase(urls, createLogger("warn", "test-backup"), { includeCurrent: true });
  const ownerPool = watchPool(new pg.Pool({ connectionString: urls.ownerUrl, max: 3 }), undefined, "backup-owner");
  const rootPool = watchPool(new pg.Pool({ connectionString: urls.rootUrl, max: 2 }), undefined, "backup-root");
  return {
    name,
    urls,
    ownerPool,
    rootPool,
    async drop() {
      await Promise.all([ownerPool.end(), rootPool.end()]);
      await dropDatabase(server.rootUrl, name);
    },
  };
}
