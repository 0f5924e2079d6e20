/**
 * Operator commands run with `npm run task -- <name> [args]`. Modules declare theirs in their
 * manifest; each one validates its own arguments and throws AppError("VALIDATION_FAILED") with a
 * usage line.
 */
import type pg from "pg";
import type { Config, DatabaseUrls } from "./config.ts";
import { duplicateKey, escapesWellFormed } from "./http/unicode.ts";
import { AppError } from "./errors.ts";
import { nestsDeeperThan } from "./jsonDepth.ts";
import type { Logger } from "./logger.ts";

export interface CommandContext {
  pool: pg.Pool;
  urls: DatabaseUrls;
  /** The validated configuration (a module reads its own part with its fragment's `of(config)`). */
  config: Config;
  logger: Logger;
  /** Every task identifier the worker knows (platform and modules). */
  taskNames: readonly string[];
  /** What a task's payload schema finds wrong with a payload ([] when it fits, or the task has none). */
  payloadProblems(task: string, payload: unknown): string[];
  /** The attempts the crontab gives a task's jobs (undefined: graphile-worker's 25). */
  maxAttempts(task: string): number | undefined;
  print(line: string): void;
}

export interface Command {
  usage: string;
  description: string;
  run(context: CommandContext, args: string[]): Promise<void>;
}

/** How deep a command's JSON argument may nest (objects and arrays). */
export const MAX_JSON_DEPTH = 100;

/** A command argument that must be a JSON object (absent: `{}`), nesting at most MAX_JSON_DEPTH levels. */
export function parseJsonObject(text: string | undefined, usage: string): Record<string, unknown> {
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // the usage error below
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new AppError("VALIDATION_FAILED", `The payload must be a JSON object. Usage: ${usage}`);
  if (nestsDeeperThan(value, MAX_JSON_DEPTH))
    throw new AppError("VALIDATION_FAILED", `The payload nests deeper than ${MAX_JSON_DEPTH} levels. Usage: ${usage}`);
  // What would be stored altered, or that PostgreSQL's jsonb cannot read back: a queued job's payload
  // is read by the operators' job lists, and one such payload had broken them for every operator.
  if (beyondDouble(value) || !escapesWellFormed(text) || text.includes("\\u0000") || duplicateKey(text) !== undefined)
    throw new AppError(
      "VALIDATION_FAILED",
      "The payload must be JSON stored as given: no key twice, no lone surrogate or NUL, no number past a " +
        `double's range. Usage: ${usage}`,
    );
  return value as Record<string, unknown>;
}

/**
 * Whether a parsed value holds a number past a double's range (1e999 parses as Infinity, which a
 * job's JSON stores as null). Called once the nesting is known to be shallow.
 */
function beyondDouble(item: unknown): boolean {
  if (typeof item === "number") return !Number.isFinite(item);
  return typeof item === "object" && item !== null && Object.values(item).some(beyondDouble);
}

/** The most arguments a command takes: the words of its usage after its name ("restore <file> [--clean]": 2). */
export function maxArguments(command: Command): number {
  return command.usage.trim().split(/\s+/).length - 1;
}

/** The largest bigint: job and domain-event ids go up to it. */
const BIGINT_MAX = 9223372036854775807n;

/** Whether a text is a bigint id as digits: 1 to BIGINT_MAX, no sign, no leading zero. */
export function isBigintId(value: string): boolean {
  return /^[1-9][0-9]{0,18}$/.test(value) && BigInt(value) <= BIGINT_MAX;
}

/**
 * A positive whole number argument (a job or domain-event id, minutes) that a bigint holds, or
 * VALIDATION_FAILED with the usage.
 */
export function idArgument(value: string | undefined, usage: string): string {
  if (!value) throw new AppError("VALIDATION_FAILED", `Usage: ${usage}`);
  if (!isBigintId(value))
    throw new AppError(
      "VALIDATION_FAILED",
      `An id is a whole number from 1 to ${BIGINT_MAX} (digits only), not "${value.slice(0, 40)}". Usage: ${usage}`,
    );
  return value;
}
