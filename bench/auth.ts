/**
 * Identity hot paths on this machine, against a baseline measured in the same run:
 * - login latency (REST) beside the cost of one argon2id hash, which dominates it;
 * - refreshSession requests/s (GraphQL) beside a trivial GraphQL request at the same concurrency.
 * Usage: node bench/auth.ts [seconds=5] [concurrency=16]   (configured or embedded database)
 */
import { MODULES } from "../src/modules/index.ts";
import type { AddressInfo } from "node:net";
import { hashPassword } from "../src/modules/identity/passwords.ts";
import { createTesseraServer } from "../src/platform/server.ts";
import { benchTenant, benchUser, openBench } from "./harness.ts";

const seconds = Number(process.argv[2] ?? 5);
const concurrency = Number(process.argv[3] ?? 16);
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

/** Runs `concurrency` loops of `step` for `seconds`; returns completed requests per second. */
async function throughput(
  step: (state: { refreshToken?: string }) => Promise<void>,
  init: () => Promise<{ refreshToken?: string }>,
): Promise<number> {
  // One at a time: concurrent logins would take more of the account's login bucket than it holds.
  const states: { refreshToken?: string }[] = [];
  for (let i = 0; i < concurrency; i++) states.push(await init());
  let done = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    states.map(async (state) => {
      while (performance.now() < deadline) {
        await step(state);
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

const graphql = async (query: string, variables?: unknown) => {
  const response = await post("/graphql", { query, variables });
  const body = (await response.json()) as { data?: Record<string, { refreshToken?: string }>; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
};

const baseline = await throughput(
  async () => void (await graphql("{ __typename }")),
  async () => ({}),
);
const refresh = await throughput(
  async (state) => {
    const data = await graphql(
      "mutation ($t: String!) { refreshSession(input: { refreshToken: $t }) { refreshToken } }",
      { t: state.refreshToken },
    );
    state.refreshToken = data!.refreshSession!.refreshToken;
  },
  async () => ({
    refreshToken: (
      (await (await post("/api/auth/login", { tenant: "bench", login: "bench", password })).json()) as {
        refreshToken: string;
      }
    ).refreshToken,
  }),
);

const ms = (value: number) => `${value.toFixed(1)} ms`;
process.stdout.write(
  [
    `argon2id hash (m=19 MiB, t=2, p=1)   p50 ${ms(percentile(hashTimes, 50))}   p95 ${ms(percentile(hashTimes, 95))}`,
    `login over REST                      p50 ${ms(percentile(loginTimes, 50))}` +
      `   p95 ${ms(percentile(loginTimes, 95))}` +
      `   (${(percentile(loginTimes, 50) / percentile(hashTimes, 50)).toFixed(2)}× one hash)`,
    `GraphQL { __typename }, ${concurrency} conc.     ${Math.round(baseline)} req/s (baseline)`,
    `refreshSession, ${concurrency} conc.            ${Math.round(refresh)} req/s` +
      ` (${(refresh / baseline).toFixed(2)}× baseline)`,
    "",
  ].join("\n"),
);

await server.close();
await bench.close();
