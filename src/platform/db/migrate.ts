/**
 * Brings a database to the schema this code expects: graphile-worker's own schema first (our
 * triggers enqueue into it), then our graphile-migrate migrations from `migrations/committed`.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Logger as MigrateLogger, migrate, watch, type Settings } from "graphile-migrate";
// graphile-migrate keeps its pools open for a moment after use and exits the process if one of
// their idle connections dies (e.g. when a test drops the database); close them right away. It has
// no public API for this: the one internal import of the project, on a version pinned exactly in
// package.json (docs/decisions.md).
import { clearAllPools } from "graphile-migrate/dist/pgReal.js";
import { Logger as WorkerLogger, runMigrations as installWorkerSchema } from "graphile-worker";
import type pg from "pg";
import { StartupError, type DatabaseUrls } from "../config.ts";
import type { Logger } from "../logger.ts";
import { projectRoot } from "../paths.ts";
import { newPool, withClient } from "./pools.ts";
import { migrationStep } from "./unreachable.ts";

const MIGRATIONS_FOLDER = join(projectRoot, "migrations");

/** graphile-migrate settings for a database: `.gmrc` plus the connection strings and role names. */
export function migrationSettings(urls: DatabaseUrls, logger?: Logger): Settings {
  const gmrc = JSON.parse(readFileSync(join(projectRoot, ".gmrc"), "utf8")) as Settings;
  const authenticator = decodeURIComponent(new URL(urls.authenticatorUrl).username);
  const owner = decodeURIComponent(new URL(urls.ownerUrl).username);
  return {
    ...gmrc,
    connectionString: urls.ownerUrl,
    shadowConnectionString: urls.shadowUrl,
    rootConnectionString: urls.rootUrl,
    databaseOwner: owner,
    migrationsFolder: MIGRATIONS_FOLDER,
    placeholders: {
      ":DATABASE_OWNER": owner,
      ":DATABASE_AUTHENTICATOR": authenticator,
      ":DATABASE_VISITOR": urls.visitorRole,
      ":DATABASE_BOT": urls.botRole,
    },
    afterReset: [],
    afterAllMigrations: [],
    afterCurrent: [],
    ...(logger ? { logger: graphileLogger(logger) } : {}),
  };
}

/**
 * Installs graphile-worker's schema and applies every committed migration. Idempotent.
 * `includeCurrent` also applies the work in progress in `migrations/current/` (tests do, so a
 * migration can be written test-first; production never does).
 */
export async function migrateDatabase(
  urls: DatabaseUrls,
  logger: Logger,
  options: { includeCurrent?: boolean } = {},
): Promise<void> {
  // Two commands migrating at once (`seed` and `init`, two starts): graphile-migrate's own lock is a
  // try-lock, and the second failed with "Failed to get exclusive lock". Ours waits: the second then
  // finds the migrations applied.
  await withClient(urls.ownerUrl, logger, "migrate-lock", async (client) => {
    await migrationStep("Cannot take the migration lock", () =>
      client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK]),
    );
    await migrateHoldingLock(urls, logger, options);
  });
}

/** The key of the session lock every migrating command takes (an arbitrary constant of ours). */
const MIGRATION_LOCK = 7_400_113_501;

async function migrateHoldingLock(urls: DatabaseUrls, logger: Logger, options: { includeCurrent?: boolean }) {
  const committed = readdirSync(join(MIGRATIONS_FOLDER, "committed")).filter((name) => name.endsWith(".sql"));
  let applied = 0;
  // graphile-worker ends a pool it made without waiting, its error listeners already gone: ours is
  // ended here, listened to throughout.
  const workerPool = newPool({ connectionString: urls.ownerUrl, max: 2 }, logger, "worker-migrate");
  try {
    await migrationStep("Cannot install the job queue's schema", () =>
      installWorkerSchema({ pgPool: workerPool, logger: workerLogger(logger) }),
    );
    applied = await refuseNewerMigrations(workerPool, committed);
  } finally {
    await workerPool.end();
  }
  try {
    await migrationStep("Cannot apply the migrations", () => migrate(migrationSettings(urls, logger)));
    // graphile-migrate's own line per migration is debug detail here; this one says what changed.
    if (committed.length > applied)
      logger.info({ applied: committed.length - applied, committed: committed.length }, "migrations applied");
    if (options.includeCurrent && currentMigrationSql().trim() !== "")
      await watch(migrationSettings(urls, logger), true);
  } finally {
    clearAllPools();
  }
}

/**
 * Stops when the database's migration log names a migration this code does not have (of the
 * `committed` files): a newer version migrated it, and this code's queries may not fit its schema.
 * graphile-migrate would apply nothing and report the database current. Otherwise, how many
 * migrations the log holds.
 */
async function refuseNewerMigrations(pool: pg.Pool, committed: readonly string[]): Promise<number> {
  const { rows } = await pool
    .query<{ filename: string }>("select filename from graphile_migrate.migrations")
    .catch((error: unknown) => {
      // 42P01: no migration log yet (a new database).
      if ((error as { code?: unknown }).code === "42P01") return { rows: [] };
      throw error;
    });
  // The log names a migration by its number (`000050.sql`), the folder by its number and message.
  const number = (name: string) => /^\d+/.exec(name)?.[0];
  const known = new Set(committed.map(number));
  const unknown = rows
    .map((row) => row.filename)
    .filter((name) => !known.has(number(name)))
    .sort();
  if (unknown.length === 0) return rows.length;
  throw new StartupError(
    `MIGRATION_FAILED: The database has applied ${unknown.join(", ")}, which this code does not have: ` +
      "a newer version migrated it. Run that version, or restore a backup made by this one.",
  );
}

/** The work-in-progress migration: the files of `migrations/current/` in order, comments removed. */
export function currentMigrationSql(): string {
  const folder = join(MIGRATIONS_FOLDER, "current");
  return readdirSync(folder)
    .filter((name) => name.endsWith(".sql"))
    .sort((a, b) => parseInt(a, 10) - parseInt(b, 10))
    .map((name) => readFileSync(join(folder, name), "utf8").replace(/^--.*$/gm, ""))
    .join("\n");
}

/** The hash graphile-migrate wrote into the newest committed migration (`--! Hash: sha1:…`). */
export function latestCommittedHash(): string | undefined {
  const files = readdirSync(join(MIGRATIONS_FOLDER, "committed"))
    .filter((name) => name.endsWith(".sql"))
    .sort();
  const newest = files.at(-1);
  if (!newest) return undefined;
  return /^--! Hash: (\S+)$/m.exec(readFileSync(join(MIGRATIONS_FOLDER, "committed", newest), "utf8"))?.[1];
}

/** True when the database has applied every committed migration of this code. */
export async function migrationsAreCurrent(ownerPool: pg.Pool): Promise<boolean> {
  const expected = latestCommittedHash();
  if (expected === undefined) return true;
  const { rows } = await ownerPool.query<{ hash: string }>(
    "select hash from graphile_migrate.migrations where hash = $1",
    [expected],
  );
  return rows.length > 0;
}

/** graphile-* log levels are "error" | "warning" | "info" | "debug". */
function pinoMethod(level: string): "error" | "warn" | "info" | "debug" {
  return level === "error" ? "error" : level === "warning" ? "warn" : level === "info" ? "info" : "debug";
}

function graphileLogger(logger: Logger): MigrateLogger {
  return new MigrateLogger(() => (level: string, message: string) => {
    // graphile-migrate reports each applied migration at info level; that is debug detail for us.
    logger[pinoMethod(level) === "info" ? "debug" : pinoMethod(level)]({ component: "graphile-migrate" }, message);
  });
}

/** Routes graphile-worker's logs into pino. */
export function workerLogger(logger: Logger): WorkerLogger {
  return new WorkerLogger((scope) => (level: string, message: string) => {
    logger[pinoMethod(level)]({ component: "graphile-worker", ...scope }, message);
  });
}
