/**
 * What a running embedded cluster (src/platform/db/embedded.ts) says about itself: its
 * postmaster.pid, whether that process lives, which data directory the server on a port serves,
 * and whether client sessions are still connected.
 */
import { readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { timed } from "./pools.ts";

/** Resolves once no client session but ours is connected, or after `timeoutMs`. */
export async function sessionsGone(rootUrl: string, timeoutMs: number): Promise<void> {
  const client = new pg.Client(timed({ connectionString: rootUrl }));
  client.on("error", () => {});
  try {
    await client.connect();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await client.query<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity " +
          "where backend_type = 'client backend' and pid <> pg_backend_pid()",
      );
      if (rows[0]!.n === 0 || Date.now() > deadline) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } catch {
    // The server is already unreachable: nothing to wait for.
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Undefined when the server at rootUrl runs the cluster of dataDir; "starting" while it starts; otherwise why not. */
export async function answersFor(dataDir: string, rootUrl: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: rootUrl, connectionTimeoutMillis: 5_000 });
  client.on("error", () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ dir: string }>("select current_setting('data_directory') as dir");
    return realpathSync(rows[0]!.dir) === realpathSync(dataDir) ? undefined : `it serves ${rows[0]!.dir}`;
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    // 57P03: the database system is starting up; ECONNREFUSED: not listening yet (or any more).
    return code === "57P03" || code === "ECONNREFUSED" ? "starting" : (message ?? String(error));
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** postmaster.pid: line 1 the PID, line 4 the port (0 until the server listens). */
export function readPostmasterPid(dataDir: string): { pid: number; port: number } | undefined {
  let lines: string[];
  try {
    lines = readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n");
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const port = Number(lines[3]);
  return { pid, port: Number.isInteger(port) && port > 0 ? port : 0 };
}

export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user (the postgres OS user when we are not root).
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
