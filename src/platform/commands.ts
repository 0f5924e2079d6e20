/**
 * Operator commands run with `npm run task -- <name> [args]`. Modules declare theirs in their
 * manifest; each one validates its own arguments and throws AppError("VALIDATION_FAILED") with a
 * usage line.
 */
import type pg from "pg";
import type { Config, DatabaseUrls } from "./config.ts";
import { AppError } from "./errors.ts";
import type { Logger } from "./logger.ts";

export interface CommandContext {
  pool: pg.Pool;
  urls: DatabaseUrls;
  /** The validated configuration (a module reads its own part with its fragment's `of(config)`). */
  config: Config;
  logger: Logger;
  /** Every task identifier the worker knows (platform and modules). */
  taskNames: readonly string[];
  print(line: string): void;
}

export interface Command {
  usage: string;
  description: string;
  run(context: CommandContext, args: string[]): Promise<void>;
}

/** A command argument that must be a JSON object (absent: `{}`). */
export function parseJsonObject(text: string | undefined, usage: string): Record<string, unknown> {
  if (text === undefined) return {};
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through to the usage error
  }
  throw new AppError("VALIDATION_FAILED", `The payload must be a JSON object. Usage: ${usage}`);
}

/** A positive whole number argument (a job or domain-event id), or VALIDATION_FAILED with the usage. */
export function idArgument(value: string | undefined, usage: string): string {
  if (!value || !/^\d+$/.test(value)) throw new AppError("VALIDATION_FAILED", `Usage: ${usage}`);
  return value;
}
