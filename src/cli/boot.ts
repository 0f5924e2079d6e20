/**
 * First lines of every command: validate the configuration (one message naming every problem,
 * exit 1) and set GRAPHILE_ENV before any Graphile module is loaded.
 */
import { ConfigError, loadConfig, type Config } from "../platform/config.ts";
import { createLogger, type Logger } from "../platform/logger.ts";

/** Validates config and, if configured, starts tracing before any instrumented module loads. */
export async function bootWithTracing(name: string): Promise<{ config: Config; logger: Logger; stopTracing: () => Promise<void> }> {
  const booted = boot(name);
  const { startTracing } = await import("../platform/tracing.ts");
  const tracing = await startTracing(booted.config.otelEndpoint, name);
  if (tracing) booted.logger.info({ endpoint: booted.config.otelEndpoint }, "tracing on");
  return { ...booted, stopTracing: async () => void (await tracing?.shutdown()) };
}

export function boot(name: string): { config: Config; logger: Logger } {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  process.env.GRAPHILE_ENV ??= config.isProduction ? "production" : "development";
  // An embedded cluster that cannot be used is an operator's matter: one line saying what to do,
  // no stack trace. Every other uncaught error keeps Node's own report.
  process.on("uncaughtExceptionMonitor", (error) => {
    if (error instanceof Error && error.name === "EmbeddedPostgresError") {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
  });
  const pretty = config.env === "dev" && process.stdout.isTTY === true;
  return { config, logger: createLogger(config.logLevel, name, undefined, pretty) };
}

/** Runs `stop` once on SIGINT/SIGTERM, then exits 0 (or 1 if stopping failed). */
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
}
