/**
 * What a fault test measured (jobs, e-mails, notifications, requests, 503s, other errors, time to
 * recover), reported once per test: one line `figures <test>: {…}` on the console, and one JSON line
 * appended to the file RELIABILITY_FIGURES names, when set — docs/reliability.md's tables come from
 * there. Figures are reported, never asserted on: times depend on the machine's load.
 */
import { appendFileSync } from "node:fs";

export type Figures = Record<string, number | string>;

export function reportFigures(test: string, figures: Figures): void {
  const line = JSON.stringify({ test, ...figures });
  console.log(`figures ${test}: ${JSON.stringify(figures)}`);
  const file = process.env.RELIABILITY_FIGURES;
  if (file) appendFileSync(file, `${line}\n`);
}

/** Milliseconds since `start` (a `performance.now()`), rounded: for "time to recover" figures. */
export function msSince(start: number): number {
  return Math.round(performance.now() - start);
}

/** Counts the answers of a load: each status (or a client-side failure's name) and how often. */
export class Tally {
  readonly counts = new Map<string, number>();
  add(outcome: number | string): void {
    const key = String(outcome);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  get total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }
  of(outcome: number | string): number {
    return this.counts.get(String(outcome)) ?? 0;
  }
  /** Outcomes other than those listed, with their counts. */
  other(...expected: Array<number | string>): Array<[string, number]> {
    const allowed = new Set(expected.map(String));
    return [...this.counts].filter(([key]) => !allowed.has(key));
  }
}
