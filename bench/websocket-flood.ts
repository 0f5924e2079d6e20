/**
 * `npm start` answering /ready while anonymous WebSocket clients flood it with new documents: each
 * of `sockets` sockets keeps 100 subscriptions of distinct 200-field documents in flight (each is
 * parsed and validated, then refused UNAUTHENTICATED before it is planned), sending the next as each is
 * answered. /ready is probed every 100 ms (10 s at most each), first with no flood, then under it.
 * Usage: node bench/websocket-flood.ts [seconds=20] [sockets=3]
 * Runs its own embedded cluster in .data/bench-ws-flood-pg unless DATABASE_URL is set.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";
import { projectRoot } from "../src/platform/paths.ts";
import { startServer } from "./startServer.ts";

const seconds = Number(process.argv[2] ?? 20);
const socketCount = Number(process.argv[3] ?? 3);
const IN_FLIGHT = 100;
const PROBE_TIMEOUT_MS = 10_000;

interface Probes {
  phase: string;
  probes: number;
  unanswered: number;
  p50Ms: number;
  p90Ms: number;
  maxMs: number;
  operationsAnswered?: number;
}

/** Probes /ready every 100 ms for `seconds`. */
async function probeReady(base: string, phase: string): Promise<Probes> {
  const latencies: number[] = [];
  let unanswered = 0;
  for (const end = Date.now() + seconds * 1000; Date.now() < end; ) {
    const started = performance.now();
    try {
      const response = await fetch(`${base}/ready`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      await response.arrayBuffer();
      latencies.push(performance.now() - started);
    } catch {
      unanswered += 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? Number.NaN;
  return { phase, probes: latencies.length + unanswered, unanswered, p50Ms: at(0.5), p90Ms: at(0.9), maxMs: at(1) };
}

/** An anonymous socket keeping IN_FLIGHT new documents in flight; answers the count of answers and a stop. */
function flood(wsUrl: string, index: number): { answered(): number; stop(): void } {
  const ws = new WebSocket(wsUrl, "graphql-transport-ws");
  const fields = ["title", "content", "rowId", "kind", "createdAt"];
  const selection = Array.from({ length: 200 }, (_, j) => `a${j}: ${fields[j % fields.length]}`).join(" ");
  const salt = `${Date.now()}_${index}`;
  let sent = 0;
  let answered = 0;
  let inFlight = 0;
  const send = () => {
    for (; inFlight < IN_FLIGHT && ws.readyState === ws.OPEN; inFlight++, sent++) {
      const query = `subscription S${salt}_${sent} { notificationAdded { notification { ${selection} } } }`;
      ws.send(JSON.stringify({ id: `f${sent}`, type: "subscribe", payload: { query } }));
    }
  };
  ws.on("open", () => ws.send(JSON.stringify({ type: "connection_init", payload: {} })));
  ws.on("message", (data) => {
    const { type } = JSON.parse(String(data)) as { type: string };
    if (type === "connection_ack") send();
    if (type === "complete" || type === "error") {
      inFlight -= 1;
      answered += 1;
      send();
    }
  });
  ws.on("error", () => {});
  return { answered: () => answered, stop: () => ws.terminate() };
}

const server = await startServer("bench-ws-flood-pg");
try {
  const results: Probes[] = [await probeReady(server.base, "no flood")];
  const floods = Array.from({ length: socketCount }, (_, i) =>
    flood(server.base.replace(/^http/, "ws") + "/graphql", i),
  );
  const underFlood = await probeReady(server.base, `${socketCount} flooding sockets`);
  underFlood.operationsAnswered = floods.reduce((sum, socket) => sum + socket.answered(), 0);
  for (const socket of floods) socket.stop();
  results.push(underFlood);

  process.stdout.write(`\n/ready every 100 ms for ${seconds} s, without and with the flood\n`);
  const columns = ["probes", "unanswered", "p50 ms", "p90 ms", "max ms", "flood ops"];
  process.stdout.write(`${"".padEnd(22)}${columns.map((c) => c.padStart(11)).join("")}\n`);
  for (const r of results) {
    const cells = [r.probes, r.unanswered, r.p50Ms.toFixed(0), r.p90Ms.toFixed(0), r.maxMs.toFixed(0)];
    cells.push(r.operationsAnswered ?? "-");
    process.stdout.write(`${r.phase.padEnd(22)}${cells.map((c) => String(c).padStart(11)).join("")}\n`);
  }
  process.stdout.write(`p90 under the flood ÷ without: ${(underFlood.p90Ms / results[0]!.p90Ms).toFixed(1)}×\n`);
  const resultsDir = join(projectRoot, "bench", "results");
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(
    join(resultsDir, "websocket-flood.json"),
    JSON.stringify({ when: new Date().toISOString(), seconds, sockets: socketCount, results }, null, 2),
  );
} finally {
  await server.stop();
}
