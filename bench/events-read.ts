/**
 * The events read path: a member lists upcoming events with participant counts.
 *   1. Tessera: POST /graphql (searchEvents) — JWT, session check, RLS, PostGraphile.
 *   2. Ceiling for Node on this machine: a hand-written node:http + pg handler running the same
 *      statements (session check, claims, the same query) and answering the same JSON.
 *   3. Ceiling for the database: pgbench replaying those statements.
 * Load comes from wrk (a separate process); same concurrency and duration for all three.
 * Usage: node bench/events-read.ts [seconds=10] [connections=16]   (needs wrk and pgbench)
 */
import { MODULES } from "../src/modules/index.ts";
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { projectRoot } from "../src/platform/paths.ts";
import { createTesseraServer } from "../src/platform/server.ts";
import { EVENTS_QUERY, eventsFixture, wrkScript } from "./eventsFixture.ts";
import { openBench, runWrk } from "./harness.ts";
import { EVENTS_LIST_SQL } from "./queries.ts";

const seconds = Number(process.argv[2] ?? 10);
const connections = Number(process.argv[3] ?? 16);
const bench = await openBench();
const { config, logger, database } = bench;

// A tenant with 40 upcoming events, participants, and one member with a live session.
const { tenantId, userId, sessionId, token } = await eventsFixture(bench);
const QUERY = EVENTS_QUERY;
// What Tessera sends, in the same messages: the session check on its own
// (src/platform/auth/sessionCheck.ts), then `begin`, the claims, the query and `commit` in one write
// (src/platform/graphql/requestTransactions.ts).
const SESSION_SQL = `select * from app_hidden.session_claims(array['${sessionId}']::uuid[])`;
const SETTINGS_SQL =
  `select set_config('role', '${database.urls.visitorRole}', true),` +
  ` set_config('jwt.claims.session_id', '${sessionId}', true), set_config('jwt.claims.role', 'member', true),` +
  ` set_config('jwt.claims.user_id', '${userId}', true), set_config('jwt.claims.tenant_id', '${tenantId}', true)`;

// 2. The hand-written ceiling.
const authenticator = new pg.Pool({ connectionString: database.urls.authenticatorUrl, max: 10 });
const plain = createServer(async (_req, res) => {
  await authenticator.query(SESSION_SQL);
  const results = (await authenticator.query(
    ["begin", SETTINGS_SQL, EVENTS_LIST_SQL, "commit"].join("; "),
  )) as unknown as pg.QueryResult[];
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ data: { searchEvents: { nodes: results[2]!.rows } } }));
});
await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));

// 1. Tessera.
const tessera = await createTesseraServer({
  modules: MODULES,
  config: { ...config, isProduction: true },
  database: database.urls,
  logger,
});
await new Promise<void>((resolve) => tessera.httpServer.listen(0, "127.0.0.1", resolve));

const resultsDir = join(projectRoot, "bench", "results");
mkdirSync(resultsDir, { recursive: true });
const luaPath = join(resultsDir, "events-read.lua");
writeFileSync(luaPath, wrkScript(QUERY, token));

interface Result {
  label: string;
  rps: number;
  p50Ms?: number;
  p99Ms?: number;
  rssMiB?: number;
  /** CPU time of this process (user + system) per request: steadier than req/s on a busy machine. */
  cpuMsPerRequest?: number;
}
// The servers live in this process: the load generator must run without blocking its event loop.
const run = promisify(execFile);
async function wrk(label: string, url: string): Promise<Result> {
  const cpuBefore = process.cpuUsage();
  const { rps, p50Ms, p99Ms, requests } = await runWrk(luaPath, url, seconds, connections);
  const cpu = process.cpuUsage(cpuBefore);
  return {
    label,
    rps,
    p50Ms,
    p99Ms,
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
    cpuMsPerRequest: requests ? (cpu.user + cpu.system) / 1000 / requests : undefined,
  };
}

// Check both answer the same JSON before measuring.
const ask = async (url: string) =>
  (
    await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: QUERY }),
    })
  ).json();
const [viaTessera, viaPlain] = await Promise.all([
  ask(`http://127.0.0.1:${(tessera.httpServer.address() as AddressInfo).port}/graphql`),
  ask(`http://127.0.0.1:${(plain.address() as AddressInfo).port}/`),
]);
if (JSON.stringify(viaTessera) !== JSON.stringify(viaPlain)) {
  process.stderr.write(
    `warning: the two servers answer differently:\n${JSON.stringify(viaTessera).slice(0, 300)}\n` +
      `${JSON.stringify(viaPlain).slice(0, 300)}\n`,
  );
}

const results: Result[] = [];
results.push(
  await wrk("Tessera /graphql", `http://127.0.0.1:${(tessera.httpServer.address() as AddressInfo).port}/graphql`),
);
results.push(await wrk("node:http + pg (same SQL)", `http://127.0.0.1:${(plain.address() as AddressInfo).port}/`));

// 3. pgbench replaying the statements (as the authenticator, like both servers).
const scriptPath = join(resultsDir, "events-read.sql");
writeFileSync(
  scriptPath,
  [
    `${SESSION_SQL};`,
    // pgbench sends commands joined by \; as one message.
    `begin \\; ${SETTINGS_SQL} \\; ${EVENTS_LIST_SQL.replace(/\s+/g, " ")} \\; commit;`,
    "",
  ].join("\n"),
);
const { stdout: pgbenchOut } = await run("pgbench", [
  "-n",
  "-f",
  scriptPath,
  `-c${connections}`,
  "-j2",
  `-T${seconds}`,
  database.urls.authenticatorUrl,
]);
results.push({
  label: "pgbench (same statements)",
  rps: Number(/tps = ([\d.]+)/.exec(pgbenchOut)?.[1] ?? 0),
  p50Ms: Number(/latency average = ([\d.]+) ms/.exec(pgbenchOut)?.[1] ?? NaN),
});

const ceiling = results[1]!.rps;
const database_ = results[2]!.rps;
process.stdout.write(`\nEvents read path, ${connections} connections, ${seconds} s each (pgbench: average latency)\n`);
process.stdout.write(
  `${"".padEnd(28)}${"req/s".padStart(9)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}${"RSS MiB".padStart(9)}` +
    `${"÷ node".padStart(9)}${"÷ pg".padStart(8)}${"CPU ms/req".padStart(12)}\n`,
);
for (const r of results) {
  process.stdout.write(
    `${r.label.padEnd(28)}${r.rps.toFixed(0).padStart(9)}${(r.p50Ms?.toFixed(1) ?? "-").padStart(9)}` +
      `${(r.p99Ms?.toFixed(1) ?? "-").padStart(9)}${String(r.rssMiB ?? "-").padStart(9)}` +
      `${(r.rps / ceiling).toFixed(2).padStart(9)}${(r.rps / database_).toFixed(2).padStart(8)}` +
      `${(r.cpuMsPerRequest?.toFixed(2) ?? "-").padStart(12)}\n`,
  );
}
writeFileSync(
  join(resultsDir, "events-read.json"),
  JSON.stringify({ when: new Date().toISOString(), seconds, connections, results }, null, 2),
);

await tessera.close();
await new Promise((resolve) => plain.close(resolve));
await authenticator.end();
await bench.close();
