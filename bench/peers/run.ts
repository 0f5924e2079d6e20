/**
 * `npm run bench:peers [seconds=6] [connections=16] [rounds=3]`: Tessera beside two peers serving the same
 * schema, data and queries — PostGraphile V4 (bench/peers/v4.mjs) and a hand-written node:http + pg
 * server (bench/peers/handwritten.ts) — on four paths (bench/peers/paths.ts). Each server runs in
 * its own process (Tessera with the V8 heap flags of `npm start`), so each one's RSS (peak VmRSS
 * sampled during its load) is its own; load comes
 * from wrk, with the same duration and connections for all. Each path is measured in `rounds`
 * rounds, the servers in a rotated order each round (none always goes first or last on a machine
 * whose speed drifts); a server's figures are those of its median round by req/s, its RSS the
 * peak over all rounds. Beside them, per request and as the median over the rounds: the server process's
 * CPU time (all its threads, garbage collection included), PostgreSQL's CPU time, and the server's
 * read and write system calls. PEERS_PATHS=events,currentUser measures only the paths named. Before
 * measuring, each server answers
 * a sample request of each path, and a warning is printed if the answers differ. Prints a table per
 * path and writes bench/results/peers.json. Installs V4 (bench/peers/package.json) on first use.
 * `npm run bench:peers 0` only starts the servers and compares their answers (no load, no lock needed).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { projectRoot } from "../../src/platform/paths.ts";
import {
  benchEvents,
  benchSession,
  benchStore,
  benchTenant,
  benchUser,
  openBench,
  runWrk,
  type WrkResult,
} from "../harness.ts";
import { cpuMsOfProcess, postgresCpuMs, postgresMsBetween } from "../cpu.ts";
import { type Ask, PATHS, type PathSpec, type ServerName } from "./paths.ts";
import type { PeersSetup } from "./setup.ts";

const seconds = Number(process.argv[2] ?? 6);
const connections = Number(process.argv[3] ?? 16);
const rounds = Math.max(1, Number(process.argv[4] ?? 3));
const peersDir = join(projectRoot, "bench", "peers");
const resultsDir = join(projectRoot, "bench", "results");
/** Members who join events in (d), and events to join: enough (member, event) pairs for any server's run. */
const JOINERS = 400;
const JOIN_EVENTS = Math.max(50, Math.ceil((seconds * 3000) / JOINERS));

if (!existsSync(join(peersDir, "node_modules"))) {
  process.stdout.write("Installing PostGraphile V4 for the benchmark (bench/peers/package.json)…\n");
  execFileSync("npm", ["install", "--prefix", peersDir, "--no-audit", "--no-fund"], { stdio: "inherit" });
}
const v4Version = JSON.parse(readFileSync(join(peersDir, "node_modules", "postgraphile", "package.json"), "utf8"))
  .version as string;

// Every bot request takes a unit of its key's rate limit: the limit must not be what is measured.
process.env.BOT_API_RATE_LIMIT ??= "1000000";
const bench = await openBench();
const { config, database, owner } = bench;

process.stdout.write("Preparing data…\n");
const tenantId = await benchTenant(bench, "bench-events");
const readerId = await benchUser(bench, tenantId, "reader", "member");
await benchEvents(bench, tenantId);
const reader = await benchSession(bench, readerId, tenantId, "member");
const store = await benchStore(bench, tenantId, 60);
const joins = await joinData();

const setup: PeersSetup = {
  urls: database.urls,
  jwtSecret: config.jwtSecret,
  statementTimeoutMs: config.graphql.statementTimeoutMs,
  botRequestsPerMinute: Number(process.env.BOT_API_RATE_LIMIT),
};
const LABELS: Record<ServerName, string> = {
  handwritten: "node:http + pg (same SQL)",
  v4: `PostGraphile V4 ${v4Version}`,
  tessera: "Tessera (production)",
};
/**
 * The V8 heap flags `npm start` runs Tessera with (package.json's start script): its RSS as shipped;
 * then BENCH_NODE_FLAGS, to try others.
 */
function startScriptMemoryFlags(): string[] {
  const scripts = JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")).scripts;
  const shipped = String(scripts.start)
    .split(/\s+/)
    .filter((arg) => /^--max-(semi|old)-space-size=\d+$/.test(arg));
  // BENCH_NODE_FLAGS come after (V8 takes the last of a repeated flag), as in bench:memory.
  return [...shipped, ...(process.env.BENCH_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? [])];
}
const children: ChildProcess[] = [];
process.on("exit", () => {
  for (const child of children) child.kill("SIGTERM");
});
const servers = {
  handwritten: await startServer(["--env-file-if-exists=.env", join(peersDir, "handwritten.ts")]),
  v4: await startServer([join(peersDir, "v4.mjs")]),
  tessera: await startServer([...startScriptMemoryFlags(), "--env-file-if-exists=.env", join(peersDir, "tessera.ts")]),
};
const ORDER: ServerName[] = ["handwritten", "v4", "tessera"];

interface Measured extends WrkResult {
  server: ServerName;
  label: string;
  rssMiB: number;
  /** The server process's CPU time (user + system) per request. */
  cpuMsPerRequest: number;
  /** PostgreSQL's CPU time per request (every postgres process of the machine). */
  postgresMsPerRequest: number;
  /** Its read and write system calls per request (sockets to the client and to PostgreSQL). */
  readsPerRequest: number;
  writesPerRequest: number;
  /** (d) only: participants the run inserted. */
  inserted?: number;
  /** req/s of every round (the row's own figures are those of the median round). */
  rounds?: number[];
  /** CPU ms per request of every round. */
  cpuRounds?: number[];
}

mkdirSync(resultsDir, { recursive: true });
const report: Array<{ path: string; title: string; results: Measured[]; warnings: string[] }> = [];
if (seconds === 0) {
  for (const spec of PATHS) await compareAnswers(spec);
  process.stdout.write("Answers compared; no load (seconds = 0).\n");
  process.exit(0);
}
// PEERS_PATHS=events,currentUser measures only those paths (by name).
const only = process.env.PEERS_PATHS?.split(",");
for (const spec of PATHS) if (!only || only.includes(spec.name)) report.push(await measurePath(spec));
for (const server of Object.values(servers)) server.child.kill("SIGTERM");
for (const entry of report) printTable(entry);
writeFileSync(
  join(resultsDir, "peers.json"),
  JSON.stringify(
    { when: new Date().toISOString(), seconds, connections, rounds, loadAverage: loadavg(), v4Version, paths: report },
    null,
    2,
  ),
);
process.stdout.write(`\nWritten to bench/results/peers.json\n`);
await bench.close();

/** A second tenant: JOIN_EVENTS upcoming events without a cap and JOINERS members with live sessions. */
async function joinData(): Promise<{ tenantId: string; tokens: string[]; eventIds: string[] }> {
  const joinTenant = await benchTenant(bench, "bench-peers-join");
  await owner.query(
    `insert into app_public.events (tenant_id, name, starts_at, ends_at)
     select $1, 'Join ' || i, now() + make_interval(days => i), now() + make_interval(days => i, hours => 1)
     from generate_series((select count(*)::int from app_public.events where tenant_id = $1) + 1, $2::int) i`,
    [joinTenant, JOIN_EVENTS],
  );
  const { rows } = await owner.query<{ id: string }>(
    "select id from app_public.events where tenant_id = $1 order by starts_at limit $2",
    [joinTenant, JOIN_EVENTS],
  );
  const tokens: string[] = [];
  for (let i = 1; i <= JOINERS; i++) {
    const userId = await benchUser(bench, joinTenant, `joiner${i}`, "member");
    tokens.push((await benchSession(bench, userId, joinTenant, "member")).token);
  }
  return { tenantId: joinTenant, tokens, eventIds: rows.map((row) => row.id) };
}

async function resetJoins(): Promise<void> {
  await owner.query("delete from app_public.event_participants where tenant_id = $1", [joins.tenantId]);
}

async function startServer(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, {
    cwd: projectRoot,
    env: { ...process.env, PEERS_SETUP: JSON.stringify(setup) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.at(-1)} did not start within 60 s`)), 60_000);
    child.once("exit", (code) => reject(new Error(`${args.at(-1)} exited with ${code}`)));
    lines.on("line", (line) => {
      const port = (JSON.parse(line) as { port?: number }).port;
      if (port) {
        clearTimeout(timer);
        resolve(port);
      }
    });
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

function headersFor(spec: PathSpec, ask: Ask, token: string): Record<string, string> {
  const headers: Record<string, string> =
    spec.caller === "bot"
      ? { "x-api-key": store.apiKey, "x-bot-id": store.botId }
      : { authorization: `Bearer ${token}` };
  if (ask.method === "POST") headers["content-type"] = "application/json";
  return headers;
}

/** The wrk script: the same request every time, or for (d) a new (member, event) pair per request. */
function luaFor(spec: PathSpec, server: ServerName): string {
  const ask = spec.asks[server];
  if (spec.name !== "joinEvent") {
    return [
      `wrk.method = "${ask.method}"`,
      ask.query ? `wrk.body = ${JSON.stringify(JSON.stringify({ query: ask.query }))}` : "",
      ...Object.entries(headersFor(spec, ask, reader.token)).map(
        ([name, value]) => `wrk.headers["${name}"] = "${value}"`,
      ),
      "",
    ].join("\n");
  }
  // Each wrk thread takes every other pair; events turn fastest, so concurrent joins lock different events.
  return [
    `local tokens = {${joins.tokens.map((token) => `"${token}"`).join(",")}}`,
    `local events = {${joins.eventIds.map((id) => `"${id}"`).join(",")}}`,
    `local query = ${JSON.stringify(JSON.stringify(ask.query))}`,
    "local threads = 0",
    'function setup(thread) thread:set("first", threads); threads = threads + 1 end',
    "function init() counter = first end",
    "function request()",
    "  local k = counter",
    "  counter = counter + 2",
    "  local event = events[k % #events + 1]",
    "  local token = tokens[math.floor(k / #events) % #tokens + 1]",
    '  local body = \'{"query":\' .. query .. \',"variables":{"eventId":"\' .. event .. \'"}}\'',
    `  return wrk.format("POST", "${ask.path}", ` +
      '{["content-type"] = "application/json", ["authorization"] = "Bearer " .. token}, body)',
    "end",
    "",
  ].join("\n");
}

async function sample(spec: PathSpec, server: ServerName): Promise<unknown> {
  const ask = spec.asks[server];
  const token = spec.name === "joinEvent" ? joins.tokens.at(-1)! : reader.token;
  const variables = spec.name === "joinEvent" ? { eventId: joins.eventIds.at(-1) } : undefined;
  const response = await fetch(`${servers[server].url}${ask.path}`, {
    method: ask.method,
    headers: headersFor(spec, ask, token),
    body: ask.method === "POST" ? JSON.stringify({ query: ask.query, variables }) : undefined,
  });
  const body = (await response.json()) as { errors?: unknown };
  if (!response.ok || body.errors) {
    throw new Error(`${LABELS[server]} answers ${spec.name} with ${response.status}: ${JSON.stringify(body)}`);
  }
  return body;
}

/** Peak VmRSS (MiB) of a process, sampled every 100 ms until `stop` is called. */
function sampleRss(pid: number): { stop(): number } {
  let peak = 0;
  const read = () => {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    peak = Math.max(peak, Number(match?.[1] ?? 0));
  };
  read();
  const timer = setInterval(read, 100);
  return {
    stop() {
      clearInterval(timer);
      read();
      return Math.round(peak / 1024);
    },
  };
}

/** CPU time (ms) and read/write system calls of a process so far (/proc/<pid>/stat and io). */
function processCounters(pid: number): { cpuMs: number; reads: number; writes: number } {
  const io = readFileSync(`/proc/${pid}/io`, "utf8");
  const count = (name: string) => Number(new RegExp(`${name}: (\\d+)`).exec(io)?.[1] ?? 0);
  return { cpuMs: cpuMsOfProcess(pid), reads: count("syscr"), writes: count("syscw") };
}

/** Asks each server once (throws if one answers an error); a warning if the three answers differ. */
async function compareAnswers(spec: PathSpec): Promise<string[]> {
  const digests: Partial<Record<ServerName, string>> = {};
  for (const server of ORDER) digests[server] = JSON.stringify(spec.digest(server, await sample(spec, server)));
  if (spec.name === "joinEvent") await resetJoins();
  if (new Set(Object.values(digests)).size === 1) return [];
  const lines = ORDER.map((server) => `  ${LABELS[server]}: ${digests[server]!.slice(0, 400)}`);
  const warning = `the three answers differ:\n${lines.join("\n")}`;
  process.stderr.write(`warning: ${spec.title}: ${warning}\n`);
  return [warning];
}

async function measurePath(spec: PathSpec) {
  const warnings = await compareAnswers(spec);
  const byRound: Measured[][] = Array.from({ length: rounds }, () => []);
  for (let round = 0; round < rounds; round++) {
    const order = [...ORDER.slice(round % ORDER.length), ...ORDER.slice(0, round % ORDER.length)];
    for (const server of order) byRound[round]!.push(await measureOnce(spec, server, round === 0, warnings));
  }
  const results = ORDER.map((server) => {
    const runs = byRound.map((measured) => measured.find((result) => result.server === server)!);
    const median = middle(runs, (run) => run.rps);
    const all = runs.map((run) => Math.round(run.rps)).join(", ");
    const cpu = runs.map((run) => run.cpuMsPerRequest.toFixed(2)).join(", ");
    process.stdout.write(
      `  ${spec.name} ${LABELS[server]}: median ${median.rps.toFixed(0)} req/s (${all}); CPU ms/request ${cpu}\n`,
    );
    // CPU per request is a property of the code more than of the moment: the median over every round.
    return {
      ...median,
      rssMiB: Math.max(...runs.map((run) => run.rssMiB)),
      cpuMsPerRequest: middle(runs, (run) => run.cpuMsPerRequest).cpuMsPerRequest,
      postgresMsPerRequest: middle(runs, (run) => run.postgresMsPerRequest).postgresMsPerRequest,
      rounds: runs.map((run) => run.rps),
      cpuRounds: runs.map((run) => run.cpuMsPerRequest),
    };
  });
  return { path: spec.name, title: spec.title, results, warnings };
}

/** The median element of `values` by `by`. */
function middle<T>(values: T[], by: (value: T) => number): T {
  return [...values].sort((x, y) => by(x) - by(y))[Math.floor(values.length / 2)]!;
}

/** One wrk run of `spec` against `server` (after a short warm-up in the first round). */
async function measureOnce(spec: PathSpec, server: ServerName, warm: boolean, warnings: string[]): Promise<Measured> {
  const luaPath = join(resultsDir, `peers-${spec.name}-${server}.lua`);
  writeFileSync(luaPath, luaFor(spec, server));
  const url = `${servers[server].url}${spec.asks[server].path}`;
  if (warm) await runWrk(luaPath, url, Math.max(1, Math.round(seconds / 4)), connections);
  if (spec.name === "joinEvent") await resetJoins();
  const pid = servers[server].child.pid!;
  const rss = sampleRss(pid);
  const before = processCounters(pid);
  const postgresBefore = postgresCpuMs();
  const measured = await runWrk(luaPath, url, seconds, connections);
  const after = processCounters(pid);
  const postgresMs = postgresMsBetween(postgresBefore, postgresCpuMs());
  const perRequest = (name: keyof typeof before) => (after[name] - before[name]) / Math.max(1, measured.requests);
  const result: Measured = {
    server,
    label: LABELS[server],
    ...measured,
    rssMiB: rss.stop(),
    cpuMsPerRequest: perRequest("cpuMs"),
    postgresMsPerRequest: postgresMs / Math.max(1, measured.requests),
    readsPerRequest: perRequest("reads"),
    writesPerRequest: perRequest("writes"),
  };
  if (spec.name === "joinEvent") {
    const { rows } = await owner.query<{ count: string }>(
      "select count(*) from app_public.event_participants where tenant_id = $1",
      [joins.tenantId],
    );
    result.inserted = Number(rows[0]!.count);
    if (measured.requests > JOINERS * JOIN_EVENTS) warnings.push(`${server}: more requests than (member, event) pairs`);
    if (result.inserted < measured.requests) {
      warnings.push(`${server}: ${measured.requests} requests inserted only ${result.inserted} participants`);
    }
    await resetJoins();
  }
  if (measured.non2xx) warnings.push(`${server}: ${measured.non2xx} responses were not 2xx`);
  return result;
}

function printTable({ title, results, warnings }: (typeof report)[number]): void {
  const byServer = Object.fromEntries(results.map((result) => [result.server, result]));
  const hand = byServer.handwritten!.rps;
  const v4 = byServer.v4!.rps;
  const cells = (values: Array<string | number>, widths: number[]) =>
    values.map((value, i) => (i === 0 ? String(value).padEnd(widths[0]!) : String(value).padStart(widths[i]!)));
  const headings = ["", "req/s", "p50 ms", "p99 ms", "RSS MiB", "CPU ms", "PG ms", "reads", "writes", "÷ hand", "÷ V4"];
  const widths = [28, 9, 9, 9, 9, 8, 8, 8, 8, 8, 8];
  process.stdout.write(`\n${title} — ${connections} connections, ${seconds} s each, median of ${rounds} rounds\n`);
  process.stdout.write(`${cells(headings, widths).join("")}\n`);
  for (const r of results) {
    const row = [
      r.label,
      r.rps.toFixed(0),
      r.p50Ms?.toFixed(1) ?? "-",
      r.p99Ms?.toFixed(1) ?? "-",
      r.rssMiB,
      r.cpuMsPerRequest.toFixed(2),
      r.postgresMsPerRequest.toFixed(2),
      r.readsPerRequest.toFixed(1),
      r.writesPerRequest.toFixed(1),
      (r.rps / hand).toFixed(2),
      (r.rps / v4).toFixed(2),
    ];
    process.stdout.write(`${cells(row, widths).join("")}\n`);
  }
  // The servers of a round run one after another, so a ratio within a round leaves out the
  // machine's drift between rounds: Tessera against each peer round by round, and their median.
  const ours = byServer.tessera!;
  for (const [name, peer] of [
    ["hand-written", byServer.handwritten!],
    ["V4", byServer.v4!],
  ] as const) {
    const ratios = ours.rounds!.map((rps, round) => rps / peer.rounds![round]!);
    const listed = ratios.map((ratio) => ratio.toFixed(2)).join(", ");
    process.stdout.write(
      `Tessera ÷ ${name} round by round: ${listed}; median ${middle(ratios, (r) => r).toFixed(2)}\n`,
    );
  }
  for (const warning of warnings) process.stdout.write(`warning: ${warning}\n`);
}
