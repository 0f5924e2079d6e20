/**
 * Memory of `npm start` (API + in-process worker) at rest and under load: the script's own node
 * command is started as a child (so its pid is the node process; the embedded PostgreSQL is a
 * separate process and is not counted), a member lists upcoming events (the events read path) under
 * wrk at each concurrency in turn, and the child's RSS is read from /proc: VmHWM (peak, reset before
 * each phase) and VmRSS (now). Heap used comes from the server's own /metrics.
 * Usage: node bench/memory.ts [seconds=10] [connections=16,200]
 *   BENCH_NODE_FLAGS="--max-semi-space-size=32 …" adds flags after the script's own (V8 takes the last of a
 *   repeated flag), to try other settings; "--max-semi-space-size=64 --max-old-space-size=4096"
 *   is V8's default sizing on a 24 GiB host.
 * Runs its own embedded cluster in .data/bench-memory-pg unless DATABASE_URL is set.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { projectRoot } from "../src/platform/paths.ts";
import { benchSession, benchTenant, benchUser, openBench, type Bench } from "./harness.ts";

const seconds = Number(process.argv[2] ?? 10);
const phases = (process.argv[3] ?? "16,200").split(",").map(Number);
const extraFlags = (process.env.BENCH_NODE_FLAGS ?? "").split(/\s+/).filter(Boolean);
const run = promisify(execFile);
const QUERY =
  "{ searchEvents(upcoming: true, first: 20, orderBy: STARTS_AT_ASC) " +
  "{ nodes { rowId name startsAt participantsCount } } }";

interface Phase {
  label: string;
  connections?: number;
  rps?: number;
  p50Ms?: number;
  p99Ms?: number;
  errors?: number;
  /** CPU time (user + system) of the server per request answered: GC work shows here even when req/s is noise. */
  cpuMsPerRequest?: number;
  peakRssMiB: number;
  rssMiB: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
}

/** The `start` script's command, its `node` replaced by this node binary, with the extra flags. */
function startCommand(): { command: string; args: string[] } {
  const scripts = JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")).scripts;
  const [node, ...args] = String(scripts.start).split(/\s+/);
  if (node !== "node") throw new Error(`the start script does not begin with node: ${scripts.start}`);
  // V8 takes the last of a repeated flag: the extra ones go after the script's own.
  const entry = args.findIndex((arg) => !arg.startsWith("-"));
  return { command: process.execPath, args: [...args.slice(0, entry), ...extraFlags, ...args.slice(entry)] };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitReady(base: string, exited: () => boolean, deadlineMs = 120_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (exited()) throw new Error("npm start exited before /ready");
    const ok = await fetch(`${base}/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("npm start did not become ready in time");
}

/** VmRSS and VmHWM of a process, in MiB. */
function rss(pid: number): { now: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { now: kib("VmRSS") / 1024, peak: kib("VmHWM") / 1024 };
}

/** CPU time (user + system) the process has used, in milliseconds (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Resets VmHWM to the current RSS (Linux: clear_refs 5). */
function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
}

async function heap(base: string): Promise<{ used: number; total: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} ([\\d.e+]+)`, "m").exec(text)?.[1] ?? 0) / 2 ** 20;
  return { used: value("nodejs_heap_size_used_bytes"), total: value("nodejs_heap_size_total_bytes") };
}

/** A tenant with 40 upcoming events and participants (as the events read benchmark), and a member's token. */
async function eventsTenant(bench: Bench): Promise<string> {
  const tenantId = await benchTenant(bench, "bench-events");
  const userId = await benchUser(bench, tenantId, "reader", "member");
  const exists = await bench.owner.query("select 1 from app_public.events where tenant_id = $1", [tenantId]);
  if (!exists.rowCount) {
    await bench.owner.query(
      `insert into app_public.events (tenant_id, name, description, starts_at, ends_at, max_participants_count)
       select $1, 'Event ' || i, 'Description of event ' || i,
         now() + make_interval(days => i), now() + make_interval(days => i, hours => 2), 100
       from generate_series(1, 40) i`,
      [tenantId],
    );
    await bench.owner.query(
      `with people as (insert into app_public.users (tenant_id, email, username)
         select $1, 'p' || i || '@example.test', 'p' || i from generate_series(1, 200) i returning id)
       insert into app_public.event_participants (tenant_id, event_id, user_id)
       select $1, e.id, p.id from app_public.events e, people p
       where e.tenant_id = $1 and (hashtext(e.id::text || p.id::text) % 4) = 0`,
      [tenantId],
    );
  }
  return (await benchSession(bench, userId, tenantId, "member")).token;
}

async function wrk(url: string, luaPath: string, connections: number) {
  const { stdout: out } = await run("wrk", [
    "-t2",
    `-c${connections}`,
    `-d${seconds}s`,
    "--latency",
    "-s",
    luaPath,
    url,
  ]);
  const ms = (name: string) => {
    const match = new RegExp(`${name}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    if (!match) return undefined;
    const value = Number(match[1]);
    return match[2] === "us" ? value / 1000 : match[2] === "s" ? value * 1000 : value;
  };
  const errors = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1];
  return {
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0),
    p50Ms: ms("50"),
    p99Ms: ms("99"),
    errors: errors ? Number(errors) : 0,
  };
}

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const { command, args } = startCommand();
const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), LOG_LEVEL: "warn" };
if (!env.DATABASE_URL) env.EMBEDDED_DATABASE_DIR ??= join(projectRoot, ".data", "bench-memory-pg");
const child = spawn(command, args, { cwd: projectRoot, env, stdio: ["ignore", "ignore", "inherit"] });
let exited = false;
child.on("exit", () => (exited = true));
const pid = child.pid!;
const stopChild = async () => {
  if (exited) return;
  const gone = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await gone;
  await clusterGone();
};

/** Waits for our embedded cluster's postmaster to exit: the next run would otherwise attach to it as it shuts down. */
async function clusterGone(deadlineMs = 30_000): Promise<void> {
  if (!env.EMBEDDED_DATABASE_DIR) return;
  const pidFile = join(env.EMBEDDED_DATABASE_DIR, "postmaster.pid");
  for (const deadline = Date.now() + deadlineMs; existsSync(pidFile) && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
process.on("SIGINT", () => void stopChild().then(() => process.exit(130)));

try {
  await waitReady(base, () => exited);
  process.env.EMBEDDED_DATABASE_DIR = env.EMBEDDED_DATABASE_DIR;
  const bench = await openBench();
  const token = await eventsTenant(bench);
  const resultsDir = join(projectRoot, "bench", "results");
  mkdirSync(resultsDir, { recursive: true });
  const luaPath = join(resultsDir, "memory.lua");
  writeFileSync(
    luaPath,
    [
      'wrk.method = "POST"',
      `wrk.body = ${JSON.stringify(JSON.stringify({ query: QUERY }))}`,
      'wrk.headers["content-type"] = "application/json"',
      `wrk.headers["authorization"] = "Bearer ${token}"`,
      "",
    ].join("\n"),
  );
  const answer = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: QUERY }),
  }).then((r) => r.json() as Promise<{ data?: { searchEvents?: { nodes: unknown[] } } }>);
  if (answer.data?.searchEvents?.nodes.length !== 20) throw new Error(`unexpected answer: ${JSON.stringify(answer)}`);

  const results: Phase[] = [];
  type Load = Omit<Phase, "label" | "peakRssMiB" | "rssMiB" | "heapUsedMiB" | "heapTotalMiB">;
  const sample = async (label: string, load?: Load) => {
    const { now, peak } = rss(pid);
    const { used, total } = await heap(base);
    results.push({ label, ...load, peakRssMiB: peak, rssMiB: now, heapUsedMiB: used, heapTotalMiB: total });
  };
  // At rest: after start-up and one request, given a second to settle.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  resetPeak(pid);
  await sample("rest");
  for (const connections of phases) {
    resetPeak(pid);
    const cpuBefore = cpuMs(pid);
    const { requests, ...load } = await wrk(`${base}/graphql`, luaPath, connections);
    const cpuMsPerRequest = (cpuMs(pid) - cpuBefore) / Math.max(requests, 1);
    await sample(`${connections} connections`, { ...load, connections, cpuMsPerRequest });
  }
  await new Promise((resolve) => setTimeout(resolve, 2000));
  resetPeak(pid);
  await sample("after load (+2 s)");
  await bench.close();

  process.stdout.write(
    `\nMemory of npm start (events read path, ${seconds} s per phase)` +
      `${extraFlags.length ? `, extra flags: ${extraFlags.join(" ")}` : ""}\n`,
  );
  const columns = ["req/s", "p50 ms", "p99 ms", "CPU ms/req", "peak RSS", "RSS", "heap used", "heap total"];
  process.stdout.write(`${"".padEnd(20)}${columns.map((c) => c.padStart(11)).join("")}  (MiB)\n`);
  const cell = (value: number | undefined, digits = 0) => (value === undefined ? "-" : value.toFixed(digits));
  for (const r of results) {
    const cells = [cell(r.rps), cell(r.p50Ms, 1), cell(r.p99Ms, 1), cell(r.cpuMsPerRequest, 2)];
    cells.push(cell(r.peakRssMiB), cell(r.rssMiB));
    cells.push(cell(r.heapUsedMiB), cell(r.heapTotalMiB));
    process.stdout.write(`${r.label.padEnd(20)}${cells.map((c) => c.padStart(11)).join("")}\n`);
    if (r.errors) process.stdout.write(`  ${r.errors} non-2xx answers\n`);
  }
  const startScript = args.join(" ");
  writeFileSync(
    join(resultsDir, "memory.json"),
    JSON.stringify({ when: new Date().toISOString(), seconds, command: `node ${startScript}`, results }, null, 2),
  );
} finally {
  await stopChild();
}
