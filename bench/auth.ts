/**
 * Identity hot paths on this machine, against a baseline measured in the same run:
 * - login latency (REST) beside the cost of one argon2id hash, which dominates it;
 * - refreshSession requests/s (GraphQL) beside a trivial GraphQL request at the same concurrency, in
 *   rounds that alternate which of the two goes first (this machine's speed drifts within minutes),
 *   with the ratio of each round and their median, and the process's CPU time per request (the
 *   load runs in this process too, as fetch loops).
 * Usage: node bench/auth.ts [seconds=5] [concurrency=16] [rounds=3]   (configured or embedded database)
 */
import { MODULES } from "../src/modules/index.ts";
import type { AddressInfo } from "node:net";
import { hashPassword } from "../src/modules/identity/passwords.ts";
import { createTesseraServer } from "../src/platform/server.ts";
import { benchTenant, benchUser, openBench } from "./harness.ts";

const seconds = Number(process.argv[2] ?? 5);
const concurrency = Number(process.argv[3] ?? 16);
const rounds = Number(process.argv[4] ?? 3);
const bench = await openBench();
const { config, logger, database } = bench;
const server = await createTesseraServer({ modules: MODULES, config, database: database.urls, logger });
await new Promise<void>((resolve) => server.httpServer.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${(server.httpServer.address() as AddressInfo).port}`;

const password = "benchmark passphrase 2026";
await benchUser(bench, await benchTenant(bench, "bench"), "bench", "member", password);
// Logins of earlier runs (this database is the benchmark's own) must not rate-limit this one.
await bench.owner.query("delete from app_private.rate_limits");

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const post = (path: string, body: unknown) =>
  fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

// 1. One argon2id hash, the floor of a login.
const hashTimes: number[] = [];
for (let i = 0; i < 20; i++) {
  const started = performance.now();
  await hashPassword(password);
  hashTimes.push(performance.now() - started);
}
hashTimes.sort((a, b) => a - b);

// 2. Login latency, one at a time.
const loginTimes: number[] = [];
for (let i = 0; i < 30; i++) {
  const started = performance.now();
  const response = await post("/api/auth/login", { tenant: "bench", login: "bench", password });
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${await response.text()}`);
  await response.json();
  loginTimes.push(performance.now() - started);
}
loginTimes.sort((a, b) => a - b);

/** One phase: `concurrency` loops of `step` for `seconds`, from states made beforehand. */
interface Phase {
  step: (state: { refreshToken?: string }) => Promise<void>;
  states: { refreshToken?: string }[];
}

/** A phase's requests per second and the process's CPU milliseconds per request. */
interface Rate {
  rps: number;
  cpuMs: number;
}

async function throughput({ step, states }: Phase): Promise<Rate> {
  let done = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    states.map(async (state) => {
      while (performance.now() < deadline) {
        await step(state);
        done++;
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return { rps: done / ((performance.now() - started) / 1000), cpuMs: (used.user + used.system) / 1000 / done };
}

const graphql = async (query: string, variables?: unknown) => {
  const response = await post("/graphql", { query, variables });
  const body = (await response.json()) as { data?: Record<string, { refreshToken?: string }>; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
};

const baseline: Phase = {
  step: async () => void (await graphql("{ __typename }")),
  states: Array.from({ length: concurrency }, () => ({})),
};
// One login at a time: concurrent logins would take more of the account's login bucket than it holds.
const sessions: { refreshToken?: string }[] = [];
for (let i = 0; i < concurrency; i++) {
  const response = await post("/api/auth/login", { tenant: "bench", login: "bench", password });
  sessions.push({ refreshToken: ((await response.json()) as { refreshToken: string }).refreshToken });
}
const refresh: Phase = {
  step: async (state) => {
    const data = await graphql(
      "mutation ($t: String!) { refreshSession(input: { refreshToken: $t }) { refreshToken } }",
      { t: state.refreshToken },
    );
    state.refreshToken = data!.refreshSession!.refreshToken;
  },
  states: sessions,
};

const results: { baseline: Rate; refresh: Rate }[] = [];
for (let round = 0; round < rounds; round++) {
  if (round % 2 === 0) {
    const b = await throughput(baseline);
    results.push({ baseline: b, refresh: await throughput(refresh) });
  } else {
    const r = await throughput(refresh);
    results.push({ baseline: await throughput(baseline), refresh: r });
  }
}
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const ratios = results.map((r) => r.refresh.rps / r.baseline.rps);
const perRound = (pick: (r: (typeof results)[number]) => Rate) =>
  results.map((r) => `${Math.round(pick(r).rps)} (${pick(r).cpuMs.toFixed(2)} ms)`).join(", ");

const ms = (value: number) => `${value.toFixed(1)} ms`;
process.stdout.write(
  [
    `argon2id hash (m=19 MiB, t=2, p=1)   p50 ${ms(percentile(hashTimes, 50))}   p95 ${ms(percentile(hashTimes, 95))}`,
    `login over REST                      p50 ${ms(percentile(loginTimes, 50))}` +
      `   p95 ${ms(percentile(loginTimes, 95))}` +
      `   (${(percentile(loginTimes, 50) / percentile(hashTimes, 50)).toFixed(2)}× one hash)`,
    `GraphQL { __typename }, ${concurrency} conc.     ${Math.round(median(results.map((r) => r.baseline.rps)))} req/s` +
      ` (median of ${rounds} rounds; req/s and CPU per request by round: ${perRound((r) => r.baseline)})`,
    `refreshSession, ${concurrency} conc.            ${Math.round(median(results.map((r) => r.refresh.rps)))} req/s` +
      ` (by round: ${perRound((r) => r.refresh)})`,
    `refreshSession ÷ { __typename } by round: ${ratios.map((r) => r.toFixed(2)).join(", ")};` +
      ` median ${median(ratios).toFixed(2)}×`,
    "",
  ].join("\n"),
);

await server.close();
await bench.close();
