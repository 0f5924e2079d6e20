/**
 * First lines of every command: validate the configuration (one message naming every problem,
 * exit 1) and set GRAPHILE_ENV before any Graphile module is loaded.
 */
import { ConfigError, loadConfig, StartupError, type Config, type DatabaseUrls } from "../platform/config.ts";
import { setConnectTimeout } from "../platform/db/pools.ts";
import { unreachableReason } from "../platform/db/unreachable.ts";
import { isHardenedEnv } from "../platform/hardening.ts";
import { createLogger, type Logger } from "../platform/logger.ts";
import type { ModuleManifest } from "../platform/modules.ts";

export interface Booted {
  config: Config;
  logger: Logger;
  /** The one list of modules (src/modules/index.ts). */
  modules: readonly ModuleManifest[];
}

/**
 * Starts tracing, if configured, before any instrumented library (express, pg, graphql) is loaded
 * by the modules; then boots as `boot` does.
 */
export async function bootWithTracing(name: string): Promise<Booted & { stopTracing: () => Promise<void> }> {
  setGraphileEnv();
  let endpoint: string | undefined;
  try {
    endpoint = loadConfig(process.env, []).otelEndpoint;
  } catch {
    // The whole configuration is validated (and its problems reported) by boot() below.
  }
  const { startTracing } = await import("../platform/tracing.ts");
  const tracing = await startTracing(endpoint, name);
  const booted = await boot(name);
  if (tracing) booted.logger.info({ endpoint }, "tracing on");
  return { ...booted, stopTracing: async () => void (await tracing?.shutdown()) };
}

/** Graphile reads GRAPHILE_ENV when it loads (an invalid APP_ENV fails the configuration anyway). */
function setGraphileEnv(): void {
  process.env.GRAPHILE_ENV ??= isHardenedEnv(process.env.APP_ENV ?? "dev") ? "production" : "development";
}

/**
 * Validates the configuration of the platform and every module; exits 1 naming every problem. A
 * command that reads no arguments refuses any (a typo such as `npm run seed -- --tenant x` would
 * otherwise be ignored without a word).
 */
export async function boot(name: string, options: { takesArguments?: boolean } = {}): Promise<Booted> {
  setGraphileEnv();
  if (!options.takesArguments) refuseArguments();
  const { MODULES } = await import("../modules/index.ts");
  let config: Config;
  try {
    config = loadConfig(process.env, MODULES);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  setConnectTimeout(config.databaseConnectTimeoutMs);
  // An environment that cannot be used as configured (a port taken, an embedded cluster locked, a
  // database that does not answer or refuses the credentials) is an operator's matter: one line saying
  // what to do, no stack trace. Every other uncaught error keeps Node's own report.
  process.on("uncaughtExceptionMonitor", (error) => {
    if (error instanceof StartupError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    const unreachable = unreachableReason(error);
    if (unreachable !== undefined) {
      process.stderr.write(`DATABASE_UNREACHABLE: Cannot use the configured database: ${unreachable}.\n`);
      process.exit(1);
    }
  });
  const pretty = config.env === "dev" && process.stdout.isTTY === true;
  return { config, logger: createLogger(config.logLevel, name, undefined, pretty), modules: MODULES };
}

/** Exits 1 with VALIDATION_FAILED when the command was given any argument. */
export function refuseArguments(): void {
  const extra = process.argv.slice(2);
  if (extra.length === 0) return;
  process.stderr.write(`VALIDATION_FAILED: this command takes no arguments (given: ${extra.join(" ")}).\n`);
  process.exit(1);
}

/**
 * Runs `stop` once on SIGINT, SIGTERM or SIGHUP (the terminal closed: Node's default would end the
 * process at once, leaving the embedded cluster running), then exits 0 (or 1 if stopping failed).
 */
export function onShutdown(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handle = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", () => handle("SIGINT"));
  process.once("SIGTERM", () => handle("SIGTERM"));
  process.once("SIGHUP", () => handle("SIGHUP"));
}

/**
 * Resolves the configured (or embedded) database, migrates it when asked, runs `work` with its
 * connection strings and stops the embedded cluster afterwards, whatever happened.
 */
export async function withDatabase<T>(
  booted: Booted,
  options: { migrate: boolean },
  work: (urls: DatabaseUrls) => Promise<T>,
): Promise<T> {
  const { resolveDatabase } = await import("../platform/db/resolve.ts");
  const { migrateDatabase } = await import("../platform/db/migrate.ts");
  const database = await resolveDatabase(booted.config, booted.logger);
  try {
    if (options.migrate) await migrateDatabase(database.urls, booted.logger);
    return await work(database.urls);
  } finally {
    await database.stop();
  }
}

/**
 * SQLSTATEs of a name the database does not know (a schema, table, function or type): on a database
 * that has not applied this code's migrations (a new cluster, a restore's empty database).
 */
const MISSING_SCHEMA_STATES = new Set(["3F000", "42P01", "42883", "42704"]);

/**
 * Writes `CODE: message` for a refusal — ours, or the database's (a unique or check constraint) —
 * with exit code 1; so too for a database without this code's schema. An unexpected error is
 * rethrown (its stack is for the operator).
 */
export async function reportRefusal(work: () => Promise<void>): Promise<void> {
  const { toAppError } = await import("../platform/errors.ts");
  try {
    await work();
  } catch (error) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (typeof code === "string" && MISSING_SCHEMA_STATES.has(code)) {
      process.stderr.write(
        `SERVICE_UNAVAILABLE: The database lacks part of this code's schema (${String(message)}): ` +
          "apply its migrations first (npm run migrate).\n",
      );
      process.exitCode = 1;
      return;
    }
    const refusal = toAppError(error);
    if (refusal.code === "INTERNAL" || refusal.code === "SERVICE_UNAVAILABLE") throw error;
    const constraint = refusal.details?.constraint ? ` (${String(refusal.details.constraint)})` : "";
    process.stderr.write(`${refusal.code}: ${refusal.message}${constraint}\n`);
    process.exitCode = 1;
  }
}
