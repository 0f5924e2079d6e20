/**
 * The fuzzers' memory: test/reliability/fuzz/regressions.json holds every input that once failed
 * (a 500, an undocumented code, a partial write, a crash), each replayed before the random runs of
 * its route or mutation. How fast-check runs (how many runs, which seed) comes from the
 * environment, and a failing input is written to a file ready to be pasted into regressions.json
 * (docs/fuzzing.md).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";

export interface Regression {
  /** `METHOD /path/{template}` of a REST route (rest.test.ts)… */
  route?: string;
  /** …or the name of a Mutation field (graphql.test.ts). */
  mutation?: string;
  /** The request as sent: the case the fuzzer generated (see RestCase / GraphqlCase). */
  input: Record<string, unknown>;
  /** fast-check's seed and path of the run that found it (null when written by hand). */
  seed: number | null;
  path?: string;
  /** What went wrong, and the fix. */
  why: string;
}

export function loadRegressions(): Regression[] {
  return JSON.parse(readFileSync(join(import.meta.dirname, "regressions.json"), "utf8")) as Regression[];
}

/** Runs per route or mutation: FUZZ_RUNS, else the file's default. */
export function numRuns(fallback: number): number {
  const runs = Number(process.env.FUZZ_RUNS);
  return Number.isInteger(runs) && runs > 0 ? runs : fallback;
}

/** The seed CI runs with: a red CI means a change broke something, never that a new seed was drawn. */
export const CI_SEED = 20_261_201;

/**
 * fast-check's parameters: FUZZ_SEED and FUZZ_PATH replay one failure (with `-t` naming its test),
 * FUZZ_SHRINK=1 shrinks a failure to a smaller input (slow: every step is a request). Without
 * FUZZ_SEED each run draws a new seed, printed with any failure; under CI (CI set) the seed is
 * CI_SEED.
 */
export function fuzzParameters<T>(fallbackRuns: number): fc.Parameters<T> {
  const given = process.env.FUZZ_SEED ?? (process.env.CI ? String(CI_SEED) : undefined);
  const seed = given === undefined ? undefined : Number(given);
  return {
    numRuns: numRuns(fallbackRuns),
    ...(seed !== undefined && Number.isInteger(seed) ? { seed } : {}),
    ...(process.env.FUZZ_PATH ? { path: process.env.FUZZ_PATH } : {}),
    endOnFailure: process.env.FUZZ_SHRINK !== "1",
    verbose: fc.VerbosityLevel.None,
  };
}

/**
 * Writes a failing input as a regressions.json entry to a temporary file and returns its path (the
 * input can be 100 kB; the failure message shows it cut short).
 */
export function saveFailure(entry: Omit<Regression, "seed" | "why">): string {
  const name = (entry.route ?? entry.mutation ?? "case").replace(/[^A-Za-z0-9]+/g, "-");
  const file = join(tmpdir(), `tessera-fuzz-${name}.json`);
  const why = "TODO: what failed, and the fix";
  writeFileSync(file, `${JSON.stringify({ ...entry, seed: null, why }, null, 2)}\n`);
  return file;
}

/** A value shown cut short: long strings keep their start and their length. */
export function shortly(value: unknown, max = 600): string {
  const text = JSON.stringify(value, (_key, item) =>
    typeof item === "string" && item.length > 200 ? `${item.slice(0, 120)}… (${item.length} chars)` : item,
  );
  return text === undefined ? String(value) : text.length > max ? `${text.slice(0, max)}…` : text;
}

const tallies = new Map<string, Map<string, number>>();

/**
 * Counts an answer by status and code, for FUZZ_STATS=1 (what the fuzzer reached, route by route);
 * FUZZ_STATS=2 tells the messages apart too.
 */
export function tally(what: string, status: number | string, json?: unknown): void {
  const error = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const message = process.env.FUZZ_STATS === "2" && error?.message ? ` (${String(error.message).slice(0, 90)})` : "";
  const key = typeof error?.code === "string" ? `${status} ${error.code}${message}` : String(status);
  const counts = tallies.get(what) ?? new Map<string, number>();
  counts.set(key, (counts.get(key) ?? 0) + 1);
  tallies.set(what, counts);
}

/** With FUZZ_STATS=1, prints the answers counted by `tally`. */
export function printTally(): void {
  if (!process.env.FUZZ_STATS || process.env.FUZZ_STATS === "0") return;
  const lines = [...tallies].map(
    ([what, counts]) => `${what}: ${[...counts].map(([key, n]) => `${key} ×${n}`).join(", ")}`,
  );
  process.stdout.write(`\nAnswers by route or mutation:\n${lines.join("\n")}\n`);
}

/** The case, shown cut short where fast-check prints its counterexample (a body can be 100 kB). */
export function shownShortly<T extends object>(value: T): T {
  return Object.defineProperty(value, fc.toStringMethod, { value: () => shortly(value), enumerable: false });
}
