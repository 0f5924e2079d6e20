/**
 * `npm start` as a child process of a benchmark, so that its load comes from another process: the
 * start script's own node command (this node binary, the script's flags, then `extraFlags`), on a
 * free port, with an embedded cluster of its own in `.data/<dataDirName>` unless DATABASE_URL is set.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { projectRoot } from "../src/platform/paths.ts";

export interface ServerChild {
  base: string;
  pid: number;
  /** The start script's arguments after `node`, as run. */
  args: string[];
  /** The embedded cluster's data directory, unless DATABASE_URL is set. */
  embeddedDir?: string;
  /** SIGTERM, then waits for the process and its embedded cluster to be gone. */
  stop(): Promise<void>;
}

/** The `start` script's command, its `node` replaced by this node binary, with the extra flags. */
function startCommand(extraFlags: string[]): { command: string; args: string[] } {
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

/** Waits for an embedded cluster's postmaster to exit: the next run would otherwise attach to it as it shuts down. */
async function clusterGone(dataDir: string | undefined, deadlineMs = 30_000): Promise<void> {
  if (!dataDir) return;
  const pidFile = join(dataDir, "postmaster.pid");
  for (const deadline = Date.now() + deadlineMs; existsSync(pidFile) && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Asks the postmaster of a cluster whose owner died to stop (a fast shutdown), if one runs. */
function stopOrphanedCluster(dataDir: string | undefined): void {
  if (!dataDir || !existsSync(join(dataDir, "postmaster.pid"))) return;
  const pid = Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
  try {
    if (pid > 0) process.kill(pid, "SIGINT");
  } catch {
    // already gone
  }
}

/** Starts the server and waits for /ready; stops it on SIGINT. */
export async function startServer(dataDirName: string, extraFlags: string[] = []): Promise<ServerChild> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const { command, args } = startCommand(extraFlags);
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), LOG_LEVEL: "warn" };
  if (!env.DATABASE_URL) env.EMBEDDED_DATABASE_DIR ??= join(projectRoot, ".data", dataDirName);
  const child = spawn(command, args, { cwd: projectRoot, env, stdio: ["ignore", "ignore", "inherit"] });
  let exited = false;
  child.on("exit", () => (exited = true));
  const stop = async () => {
    if (exited) {
      // The server died (a crash under the benchmark's load): its embedded cluster outlived it.
      stopOrphanedCluster(env.EMBEDDED_DATABASE_DIR);
    } else {
      const gone = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await gone;
    }
    await clusterGone(env.EMBEDDED_DATABASE_DIR);
  };
  process.on("SIGINT", () => void stop().then(() => process.exit(130)));
  try {
    await waitReady(base, () => exited);
  } catch (error) {
    await stop();
    throw error;
  }
  return { base, pid: child.pid!, args, embeddedDir: env.EMBEDDED_DATABASE_DIR, stop };
}
