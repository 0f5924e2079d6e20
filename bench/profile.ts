/**
 * Profiles the server's request path under load: hosts Tessera, starts V8's CPU profiler (the one
 * behind --cpu-prof) once everything is warm, drives load from another process for a few seconds,
 * then writes bench/results/<scenario>.cpuprofile, an SVG flame graph bench/results/<scenario>.svg, and the
 * share of busy samples by package and by part of the path.
 * Scenarios: events (a member lists upcoming events, wrk), typename ({ __typename }, wrk),
 * me (currentUser as a member, wrk), refresh (refreshSession rotations, a node process of fetch loops).
 * Usage: node bench/profile.ts [events|typename|me|refresh] [seconds=5] [connections=16]
 * PROFILE_HEAP=1 records V8's sampling heap profiler over the same load instead: bytes allocated per
 * request by package and by function (what the young generation's scavenges pay for), and
 * bench/results/<scenario>.heapprofile (opens in Chrome DevTools' Memory tab).
 */
import { MODULES } from "../src/modules/index.ts";
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { projectRoot } from "../src/platform/paths.ts";
import { createTesseraServer } from "../src/platform/server.ts";
import { EVENTS_QUERY, eventsFixture, wrkScript } from "./eventsFixture.ts";
import {
  type CpuProfile,
  type HeapProfile,
  allocations,
  callTree,
  shareByPart,
  topFunctions,
  renderSvg,
  selfByBucket,
} from "./flamegraph.ts";
import { benchTenant, benchUser, openBench } from "./harness.ts";
import { CURRENT_USER_QUERY } from "./peers/paths.ts";

const scenario = process.argv[2] ?? "events";
const seconds = Number(process.argv[3] ?? 5);
const connections = Number(process.argv[4] ?? 16);
if (!["events", "typename", "me", "refresh"].includes(scenario)) throw new Error(`unknown scenario ${scenario}`);

/** Parts of the request path, matched against "<function> <file>" of every frame of a sample's stack. */
const PARTS: Record<string, RegExp> = {
  "JWT verification (jsonwebtoken)": /node_modules\/(jsonwebtoken|jws|jwa)\//,
  "session check (sessionCheck.ts)": /src\/platform\/auth\/sessionCheck\.ts/,
  "pg driver (pg, pg-protocol)": /node_modules\/(pg|pg-protocol|pg-pool)\//,
  "Express + router": /node_modules\/(express|router|body-parser|finalhandler)\//,
  "helmet + cors": /node_modules\/(helmet|cors)\//,
  "grafserv (HTTP, body, result)": /node_modules\/grafserv\//,
  "grafast (plan, execute)": /node_modules\/grafast\//,
  "graphql-js (parse, validate)": /node_modules\/graphql\//,
  "limits plugin (limits.ts, operationMeasure.ts)": /src\/platform\/graphql\/(limits|operationMeasure)\.ts/,
  "context callback (context.ts)": /src\/platform\/graphql\/context\.ts/,
  "pino logging": /node_modules\/(pino|sonic-boom|fast-redact|pino-std-serializers)\//,
  "prom-client metrics": /node_modules\/prom-client\/|src\/platform\/metrics\.ts/,
  "request id / log middleware": /src\/platform\/http\/(requestId|requestLog)\.ts/,
  "JSON.stringify / parse": /^(stringify|parse) $/,
  "garbage collector": /^\(garbage collector\)/,
  "refresh path (src/modules/identity)": /src\/modules\/identity\//,
};

const bench = await openBench();
const { config, logger, database } = bench;
const tessera = await createTesseraServer({
  modules: MODULES,
  config: { ...config, isProduction: true },
  database: database.urls,
  logger,
});
await new Promise<void>((resolve) => tessera.httpServer.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${(tessera.httpServer.address() as AddressInfo).port}`;
const resultsDir = join(projectRoot, "bench", "results");
mkdirSync(resultsDir, { recursive: true });
const run = promisify(execFile);

/** Prepares the load; the returned function runs it for `duration` seconds and answers requests/s. */
async function prepareLoad(): Promise<(duration: number) => Promise<number>> {
  if (scenario === "refresh") {
    const password = "benchmark passphrase 2026";
    await benchUser(bench, await benchTenant(bench, "bench"), "bench", "member", password);
    // Logins of earlier runs (this database is the benchmark's own) must not rate-limit this one.
    await bench.owner.query("delete from app_private.rate_limits");
    let tokens: string[] = [];
    for (let i = 0; i < connections; i++) {
      const response = await fetch(`${base}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ tenant: "bench", login: "bench", password }),
      });
      tokens.push(((await response.json()) as { refreshToken: string }).refreshToken);
    }
    return async (duration) => {
      const { stdout } = await run(process.execPath, ["--input-type=module", "-e", REFRESH_LOOPS], {
        env: { ...process.env, BASE: base, TOKENS: JSON.stringify(tokens), SECONDS: String(duration) },
      });
      const result = JSON.parse(stdout) as { rps: number; tokens: string[] };
      tokens = result.tokens;
      return result.rps;
    };
  }
  const fixture = scenario === "typename" ? undefined : await eventsFixture(bench);
  const luaPath = join(resultsDir, `profile-${scenario}.lua`);
  const query = { events: EVENTS_QUERY, me: CURRENT_USER_QUERY, typename: "{ __typename }" }[scenario]!;
  writeFileSync(luaPath, wrkScript(query, fixture?.token));
  return async (duration) => {
    const { stdout } = await run("wrk", [
      "-t2",
      `-c${connections}`,
      `-d${duration}s`,
      "-s",
      luaPath,
      `${base}/graphql`,
    ]);
    return Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0);
  };
}

/** The load of the refresh scenario, run by a separate process so that it stays out of the profile. */
const REFRESH_LOOPS = `
const tokens = JSON.parse(process.env.TOKENS);
const deadline = performance.now() + Number(process.env.SECONDS) * 1000;
const query = "mutation ($t: String!) { refreshSession(input: { refreshToken: $t }) { refreshToken } }";
let done = 0;
const started = performance.now();
await Promise.all(tokens.map(async (token, i) => {
  while (performance.now() < deadline) {
    const response = await fetch(process.env.BASE + "/graphql", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query, variables: { t: token } }),
    });
    const body = await response.json();
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    token = tokens[i] = body.data.refreshSession.refreshToken;
    done++;
  }
}));
process.stdout.write(JSON.stringify({ rps: done / ((performance.now() - started) / 1000), tokens }));
`;

const load = await prepareLoad();
// Warm-up (plan caches, JIT), unprofiled.
await load(1);
const session = new Session();
session.connect();
await (process.env.PROFILE_HEAP === "1" ? profileAllocations() : profileCpu());
session.disconnect();
await tessera.close();
await bench.close();

/** KiB allocated per request under the load, by package and by function. */
async function profileAllocations(): Promise<void> {
  // An object sampled on average once per 4 KiB allocated (V8 scales the samples back up), kept in
  // the profile after it is collected: what was allocated, not what is still alive.
  await session.post("HeapProfiler.enable");
  await session.post("HeapProfiler.startSampling", {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  const rps = await load(seconds);
  const { profile } = (await session.post("HeapProfiler.stopSampling")) as unknown as { profile: HeapProfile };
  writeFileSync(join(resultsDir, `${scenario}.heapprofile`), JSON.stringify(profile));
  const kibPerRequest = (bytes: number) => (bytes / (rps * seconds) / 1024).toFixed(1).padStart(8);
  const { total, byBucket, byFunction } = allocations(profile);
  process.stdout.write(
    `${scenario}: ${connections} connections, ${seconds} s, ${Math.round(rps)} req/s; ` +
      `${kibPerRequest(total).trim()} KiB allocated per request\n\nBy package or file (KiB per request)\n`,
  );
  for (const [bucket, bytes] of byBucket.slice(0, 20)) process.stdout.write(`${kibPerRequest(bytes)}  ${bucket}\n`);
  process.stdout.write("\nBy function (KiB per request)\n");
  for (const [name, bytes] of byFunction.slice(0, 30)) process.stdout.write(`${kibPerRequest(bytes)}  ${name}\n`);
}

/** Busy samples under the load: flame graph, and shares by package, function and part of the path. */
async function profileCpu(): Promise<void> {
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 250 });
  await session.post("Profiler.start");
  const rps = await load(seconds);
  const { profile } = (await session.post("Profiler.stop")) as unknown as { profile: CpuProfile };
  const stamp = new Date().toISOString().slice(0, 16);
  writeFileSync(join(resultsDir, `${scenario}.cpuprofile`), JSON.stringify(profile));
  const title = `${scenario}: ${connections} connections, ${seconds} s, ${Math.round(rps)} req/s (${stamp}Z)`;
  // Into results/, not flames/: the graphs bench/README.md shows are copied there by hand, under a name of their own.
  writeFileSync(join(resultsDir, `${scenario}.svg`), renderSvg(callTree(profile), title));
  process.stdout.write(`${title}\n\nSelf time by package or file (% of busy samples)\n`);
  for (const { bucket, share } of selfByBucket(profile).slice(0, 20)) {
    process.stdout.write(`${(share * 100).toFixed(1).padStart(6)}%  ${bucket}\n`);
  }
  process.stdout.write("\nTop functions by self time\n");
  for (const { name, share } of topFunctions(profile, 25)) {
    process.stdout.write(`${(share * 100).toFixed(1).padStart(6)}%  ${name}\n`);
  }
  process.stdout.write("\nBy part of the path (each sample to the part nearest its leaf; % of busy samples)\n");
  for (const [part, share] of Object.entries(shareByPart(profile, PARTS))) {
    process.stdout.write(`${(share * 100).toFixed(1).padStart(6)}%  ${part}\n`);
  }
}
