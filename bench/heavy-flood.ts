/**
 * `npm start` under one anonymous client sending distinct heavy queries (240 aliases of an event
 * by id, 963 fields: within the field, token and cost limits) as fast as it is answered: first over
 * HTTP from `connections` connections, then over 5 WebSockets keeping 100 each in flight. Per phase:
 * answers by status (or by graphql-ws message), /ready probed every 200 ms (p50, p90, unanswered),
 * the server's peak RSS, and whether it is still alive. Before the bound on operations in progress
 * and the execution budget, either flood ended the process (JavaScript heap out of memory). Two more
 * phases never read: WebSockets from several addresses asking for large answers, and HTTP
 * connections pipelining thousands of requests.
 * Usage: node bench/heavy-flood.ts [seconds=20] [connections=1000] [phases=http,ws,stalled,pipelined]
 * Runs its own embedded cluster in .data/bench-heavy-flood-pg unless DATABASE_URL is set.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { join } from "node:path";
import WebSocket from "ws";
import { projectRoot } from "../src/platform/paths.ts";
import { startServer } from "./startServer.ts";

const seconds = Number(process.argv[2] ?? 20);
const connections = Number(process.argv[3] ?? 1000);
const phases = (process.argv[4] ?? "http,ws,stalled,pipelined").split(",") as Array<
  "http" | "ws" | "stalled" | "pipelined"
>;
const SOCKETS = 5;
const IN_FLIGHT = 100;
const ALIASES = 240;
const FIELDS = "id name startsAt";

const heavyQuery = () =>
  `{ ${Array.from({ length: ALIASES }, (_, i) => `a${i}: event(rowId: "${randomUUID()}") { ${FIELDS} }`).join(" ")} }`;

/** The server process's resident memory now, in MiB (undefined once it is gone). */
function rssOf(pid: number): number | undefined {
  try {
    // A process that has exited (a zombie until reaped) has no VmRSS line.
    const kib = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kib === undefined ? undefined : Number(kib) / 1024;
  } catch {
    return undefined;
  }
}

interface Phase {
  phase: string;
  answers: Record<string, number>;
  probes: number;
  unanswered: number;
  p50Ms: number;
  p90Ms: number;
  peakRssMiB: number;
  alive: boolean;
}

/** Runs `flood` for `seconds` while probing /ready and sampling the server's RSS. */
async function measure(
  phase: string,
  base: string,
  pid: number,
  flood: (until: number, answers: Record<string, number>) => Promise<void>,
): Promise<Phase> {
  const answers: Record<string, number> = {};
  const until = Date.now() + seconds * 1000;
  let peak = 0;
  let alive = true;
  const sampler = setInterval(() => {
    const rss = rssOf(pid);
    if (rss === undefined) alive = false;
    else peak = Math.max(peak, rss);
  }, 100);
  const latencies: number[] = [];
  let unanswered = 0;
  const probing = (async () => {
    while (Date.now() < until) {
      const started = performance.now();
      try {
        const response = await fetch(`${base}/ready`, { signal: AbortSignal.timeout(5_000) });
        await response.arrayBuffer();
        latencies.push(performance.now() - started);
      } catch {
        unanswered += 1;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  await Promise.all([flood(until, answers), probing]);
  clearInterval(sampler);
  if (rssOf(pid) === undefined) alive = false;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? Number.NaN;
  const probes = latencies.length + unanswered;
  return { phase, answers, probes, unanswered, p50Ms: at(0.5), p90Ms: at(0.9), peakRssMiB: peak, alive };
}

function httpFlood(base: string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const one = (until: number, answers: Record<string, number>): Promise<void> =>
    new Promise((resolve) => {
      if (Date.now() >= until) return resolve();
      const body = JSON.stringify({ query: heavyQuery() });
      const request = http.request(
        `${base}/graphql`,
        { method: "POST", agent, headers: { "content-type": "application/json", "content-length": body.length } },
        (response) => {
          response.resume();
          response.on("end", () => {
            answers[response.statusCode!] = (answers[response.statusCode!] ?? 0) + 1;
            resolve(one(until, answers));
          });
        },
      );
      request.on("error", () => {
        answers.error = (answers.error ?? 0) + 1;
        // A refused connection answers at once: no tight loop while the server is gone.
        setTimeout(() => resolve(one(until, answers)), 100);
      });
      request.end(body);
    });
  return async (until: number, answers: Record<string, number>) => {
    await Promise.all(Array.from({ length: connections }, () => one(until, answers)));
    agent.destroy();
  };
}

function webSocketFlood(base: string) {
  const socket = (until: number, answers: Record<string, number>, index: number) =>
    new Promise<void>((resolve) => {
      const ws = new WebSocket(`${base.replace(/^http/, "ws")}/graphql`, "graphql-transport-ws");
      let sent = 0;
      const send = () => {
        if (Date.now() < until && ws.readyState === ws.OPEN)
          ws.send(JSON.stringify({ id: `${index}-${sent++}`, type: "subscribe", payload: { query: heavyQuery() } }));
      };
      ws.on("open", () => ws.send(JSON.stringify({ type: "connection_init", payload: {} })));
      ws.on("message", (data) => {
        const { type } = JSON.parse(String(data)) as { type: string };
        if (type === "connection_ack") for (let i = 0; i < IN_FLIGHT; i++) send();
        else if (type === "complete" || type === "error") {
          answers[type] = (answers[type] ?? 0) + 1;
          send();
        }
        if (Date.now() >= until) ws.terminate();
      });
      const timer = setTimeout(() => ws.terminate(), until - Date.now());
      ws.on("close", () => {
        clearTimeout(timer);
        resolve();
      });
      ws.on("error", () => {
        answers.error = (answers.error ?? 0) + 1;
      });
    });
  return async (until: number, answers: Record<string, number>) => {
    await Promise.all(Array.from({ length: SOCKETS }, (_, index) => socket(until, answers, index)));
  };
}

/**
 * Clients that never read: STALLED_ADDRESSES addresses (X-Forwarded-For, trusted from loopback) with
 * 50 sockets each, every socket asking for ten answers of two introspections each (~800 kB an
 * answer) and reading nothing. Each socket is cut at 4 MiB buffered, past one more message; the process's budget
 * of unread answers (64 MiB, HTTP and WebSocket) bounds them together.
 */
const STALLED_ADDRESSES = 4;
const STALLED_SOCKETS = 50;
const STALLED_IN_FLIGHT = 10;
const SCHEMA =
  "__schema { types { name description kind fields { name description isDeprecated " +
  "args { name description type { name kind } } type { name kind ofType { name kind } } } " +
  "inputFields { name description type { name } } enumValues { name description } } }";

function stalledReaders(base: string) {
  const socket = (until: number, answers: Record<string, number>, address: string, index: number) =>
    new Promise<void>((resolve) => {
      const ws = new WebSocket(`${base.replace(/^http/, "ws")}/graphql`, "graphql-transport-ws", {
        headers: { "x-forwarded-for": address },
      });
      ws.on("open", () => ws.send(JSON.stringify({ type: "connection_init", payload: {} })));
      ws.on("message", (data) => {
        if ((JSON.parse(String(data)) as { type: string }).type !== "connection_ack") return;
        for (let i = 0; i < STALLED_IN_FLIGHT; i++)
          ws.send(
            JSON.stringify({
              id: `${index}-${i}`,
              type: "subscribe",
              payload: { query: `{ a: ${SCHEMA} b: ${SCHEMA} }` },
            }),
          );
        // From here on nothing is read: the server's answers pile up in the kernel, then in the server.
        (ws as unknown as { _socket: { pause(): void } })._socket.pause();
      });
      const timer = setTimeout(() => ws.terminate(), until - Date.now());
      ws.on("close", () => {
        clearTimeout(timer);
        answers.closed = (answers.closed ?? 0) + 1;
        resolve();
      });
      ws.on("error", () => {
        answers.error = (answers.error ?? 0) + 1;
      });
    });
  return async (until: number, answers: Record<string, number>) => {
    await Promise.all(
      Array.from({ length: STALLED_ADDRESSES * STALLED_SOCKETS }, (_, i) =>
        socket(until, answers, `198.18.${Math.floor(i / STALLED_SOCKETS)}.1`, i),
      ),
    );
  };
}

/**
 * HTTP clients that pipeline and never read: PIPELINING connections, each sending PIPELINED requests
 * for the OpenAPI document (some 450 kB an answer) at once and reading nothing.
 */
const PIPELINING = 20;
const PIPELINED = 3_000;

function pipeliningReaders(base: string) {
  const { hostname, port } = new URL(base);
  const request = `GET /openapi.json HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`.repeat(PIPELINED);
  const connection = (until: number, answers: Record<string, number>) =>
    new Promise<void>((resolve) => {
      const socket = net.connect(Number(port), hostname, () => {
        socket.write(request);
        socket.pause();
      });
      const timer = setTimeout(() => socket.destroy(), until - Date.now());
      socket.on("close", () => {
        clearTimeout(timer);
        answers.closed = (answers.closed ?? 0) + 1;
        resolve();
      });
      socket.on("error", () => {
        answers.error = (answers.error ?? 0) + 1;
      });
    });
  return async (until: number, answers: Record<string, number>) => {
    await Promise.all(Array.from({ length: PIPELINING }, () => connection(until, answers)));
  };
}

const server = await startServer("bench-heavy-flood-pg");
try {
  const results: Phase[] = [];
  const floods = {
    http: [`HTTP, ${connections} connections`, httpFlood(server.base)],
    ws: [`WebSocket, ${SOCKETS}×${IN_FLIGHT}`, webSocketFlood(server.base)],
    stalled: [`${STALLED_ADDRESSES}×${STALLED_SOCKETS} sockets not reading`, stalledReaders(server.base)],
    pipelined: [`${PIPELINING}×${PIPELINED} pipelined, not reading`, pipeliningReaders(server.base)],
  } as const;
  for (const name of phases) {
    if (!(name in floods)) throw new Error(`unknown phase ${name}: http, ws, stalled or pipelined`);
    const [label, flood] = floods[name];
    if (results.at(-1)?.alive === false) break;
    results.push(await measure(label, server.base, server.pid, flood));
  }
  process.stdout.write(
    `\nDistinct ${ALIASES}-alias queries from one client, then readers that stall; ${seconds} s a phase\n`,
  );
  for (const r of results) {
    process.stdout.write(
      `${r.phase.padEnd(34)} answers ${JSON.stringify(r.answers)}; /ready ${r.probes - r.unanswered}/${r.probes} ` +
        `answered, p50 ${r.p50Ms.toFixed(0)} ms, p90 ${r.p90Ms.toFixed(0)} ms; peak RSS ` +
        `${r.peakRssMiB.toFixed(0)} MiB; ${r.alive ? "alive" : "the process died"}\n`,
    );
  }
  const resultsDir = join(projectRoot, "bench", "results");
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(
    join(resultsDir, "heavy-flood.json"),
    JSON.stringify({ when: new Date().toISOString(), seconds, connections, results }, null, 2),
  );
} finally {
  await server.stop();
}
