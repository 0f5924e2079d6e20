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
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../src/platform/paths.ts";
import { EVENTS_QUERY, eventsFixture, wrkScript } from "./eventsFixture.ts";
import { openBench, runWrk } from "./harness.ts";
import { startServer } from "./startServer.ts";

const seconds = Number(process.argv[2] ?? 10);
const phases = (process.argv[3] ?? "16,200").split(",").map(Number);
const extraFlags = (process.env.BENCH_NODE_FLAGS ?? "").split(/\s+/).filter(Boolean);
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

const server = await startServer("bench-memory-pg", extraFlags);
const { base, pid, args } = server;

try {
  if (server.embeddedDir) process.env.EMBEDDED_DATABASE_DIR = server.embeddedDir;
  const bench = await openBench();
  const { token } = await eventsFixture(bench);
  const resultsDir = join(projectRoot, "bench", "results");
  mkdirSync(resultsDir, { recursive: true });
  const luaPath = join(resultsDir, "memory.lua");
  writeFileSync(luaPath, wrkScript(EVENTS_QUERY, token));
  const answer = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: EVENTS_QUERY }),
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
    const { requests, non2xx, ...load } = await runWrk(luaPath, `${base}/graphql`, seconds, connections);
    const cpuMsPerRequest = (cpuMs(pid) - cpuBefore) / Math.max(requests, 1);
    await sample(`${connections} connections`, { ...load, errors: non2xx, connections, cpuMsPerRequest });
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
  await server.stop();
}
