/**
 * Commands while `npm start` runs on the embedded PostgreSQL: they connect to the running cluster
 * (a second postmaster cannot start on one data directory), leave its state file alone, and leave
 * the cluster running; the process that started it stops it. A real child `npm start` on a
 * cluster in a temporary EMBEDDED_DATABASE_DIR.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { projectRoot } from "../../src/platform/paths.ts";
import { type TemporaryCluster, temporaryCluster } from "../helpers/embeddedCluster.ts";
import { freePort, waitForReady } from "../helpers/process.ts";
import { until } from "../helpers/wait.ts";

let cluster: TemporaryCluster;
let dataDir: string;
let stateFile: string;
let env: Record<string, string>;

let server: ChildProcess | undefined;
let serverOutput = "";
let port: number;

beforeAll(async () => {
  cluster = await temporaryCluster("tessera-shared-");
  ({ dataDir, stateFile } = cluster);
  env = { PATH: process.env.PATH ?? "", EMBEDDED_DATABASE_DIR: dataDir, LOG_LEVEL: "warn" };
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    server.kill("SIGKILL");
    await new Promise((resolve) => server!.once("exit", resolve));
  }
  // A SIGKILLed server leaves its postmaster running: remove() stops it before removing its directory.
  await cluster.remove();
});

/** Runs one of the npm scripts' entry points to completion. */
function command(
  script: string,
  args: string[] = [],
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(projectRoot, "src", "cli", script), ...args], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("exit", (status) => resolve({ status, stdout, stderr }));
  });
}

const postmasterPid = () => readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0];

test("task, seed and migrate use the running server's cluster; the state file and the server are " +
  "untouched; Ctrl-C stops the server quietly, then the cluster", async () => {
  port = await freePort();
  server = spawn(process.execPath, [join(projectRoot, "src", "cli", "start.ts")], {
    env: { ...env, PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
    // A process group of its own, as a shell gives a foreground command: Ctrl-C signals the group.
    detached: true,
  });
  server.stdout!.on("data", (chunk) => (serverOutput += chunk));
  server.stderr!.on("data", (chunk) => (serverOutput += chunk));
  const exited = new Promise<number | null>((resolve) => server!.once("exit", (code) => resolve(code)));
  // First start: initdb, migrations and demo data take a while on a busy machine.
  await waitForReady(port, () => serverOutput, 120_000);
  const state = readFileSync(stateFile, "utf8");
  const postmaster = postmasterPid();

  const task = await command("task.ts", ["unlock-workers", "30"]);
  expect([task.status, task.stdout.trim(), task.stderr]).toEqual([0, "unlocked 0 job(s) of 0 worker(s)", ""]);
  const seed = await command("seed.ts");
  expect([seed.status, seed.stderr]).toEqual([0, ""]);
  expect(seed.stdout).toMatch(/^seeded tenant "demo"/);
  const migrate = await command("migrate.ts");
  expect([migrate.status, migrate.stderr]).toEqual([0, ""]);

  // Same cluster, same state file; the server still answers and still owns the cluster.
  expect(readFileSync(stateFile, "utf8")).toBe(state);
  expect(postmasterPid()).toBe(postmaster);
  expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200);

  // Ctrl-C: SIGINT to the whole group. The cluster, in a group of its own, is stopped by the server
  // once it is done; it had stopped at once and cut every pool's connections (warnings).
  process.kill(-server.pid!, "SIGINT");
  expect(await exited).toBe(0);
  expect(serverOutput).not.toMatch(/terminating connection due to administrator command/);
  expect(serverOutput.split("\n").filter((line) => /^\{"level":[4-6]\d/.test(line))).toEqual([]);
  await until(() => !existsSync(join(dataDir, "postmaster.pid")), "the server to stop the cluster it started", 30_000);

  // With no server running, a command starts the cluster itself, and stops it again.
  const alone = await command("task.ts", ["unlock-workers", "30"]);
  expect([alone.status, alone.stderr]).toEqual([0, ""]);
  expect(existsSync(join(dataDir, "postmaster.pid"))).toBe(false);
  // The same port and password; the owner recorded is the command that started it this time.
  const { owner: before, ...kept } = JSON.parse(state) as Record<string, unknown>;
  const { owner: after, ...now } = JSON.parse(readFileSync(stateFile, "utf8")) as Record<string, unknown>;
  expect(now).toEqual(kept);
  expect([typeof before, typeof after, after === before]).toEqual(["number", "number", false]);
}, 240_000);

test("a worker on the embedded cluster stops quietly on SIGHUP: exit 0, no error logged, no connection cut by the " +
  "database's own stop", async () => {
  const worker = spawn(process.execPath, [join(projectRoot, "src", "cli", "worker.ts")], {
    env: { ...env, LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  worker.stdout.on("data", (chunk) => (output += chunk));
  worker.stderr.on("data", (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => worker.once("exit", (code) => resolve(code)));
  try {
    await until(() => /Worker connected/.test(output), "the worker to connect", 120_000);
    // Some jobs, so that the worker's pool holds several connections when it stops.
    const { password } = JSON.parse(readFileSync(stateFile, "utf8")) as { password: string };
    const port = readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[3];
    const client = new pg.Client({
      connectionString: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/tessera`,
    });
    await client.connect();
    try {
      await client.query("select graphile_worker.add_job('worker_heartbeat', '{}') from generate_series(1, 20)");
      await until(
        async () =>
          (
            await client.query(
              "select count(*)::int as n from graphile_worker.jobs where task_identifier = 'worker_heartbeat'",
            )
          ).rows[0].n === 0,
        "the jobs to run",
      );
    } finally {
      await client.end();
    }
    // The terminal it ran in closed: SIGHUP, which Node's default answered by dying on the spot.
    worker.kill("SIGHUP");
    expect(await exited).toBe(0);
    const lines = output
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
    expect(output).not.toMatch(/terminating connection due to administrator command/);
    expect(existsSync(join(dataDir, "postmaster.pid"))).toBe(false);
  } finally {
    if (worker.exitCode === null) worker.kill("SIGKILL");
  }
}, 180_000);
