/** CPU time of processes, read from /proc (Linux), for benchmarks that say where a run's CPU went. */
import { readdirSync, readFileSync } from "node:fs";

/** User + system CPU time (ms) in the text of /proc/<pid>/stat. */
function cpuMsOf(stat: string): number {
  // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th (clock ticks, 100/s).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** CPU time (ms) of a process so far, every thread. */
export function cpuMsOfProcess(pid: number): number {
  return cpuMsOf(readFileSync(`/proc/${pid}/stat`, "utf8"));
}

/** CPU time (ms) of each PostgreSQL process so far, by pid (backends and the cluster's own). */
export function postgresCpuMs(): Map<string, number> {
  const byPid = new Map<string, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (stat.includes("(postgres)")) byPid.set(entry, cpuMsOf(stat));
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return byPid;
}

/** PostgreSQL's CPU time between two readings (a process that ended in between is not counted). */
export function postgresMsBetween(before: Map<string, number>, after: Map<string, number>): number {
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}

/**
 * CPU time (ms) used by the named processes and by PostgreSQL (every backend, as `postgres`) from
 * this call to `since()`.
 */
export function cpuWindow(pids: Record<string, number>): { since(): Record<string, number> } {
  const read = () => Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMsOfProcess(pid)]));
  // PostgreSQL's reading (a scan of /proc) is outside the processes' window: it costs this process.
  const postgresBefore = postgresCpuMs();
  const before = read();
  return {
    since() {
      const after = read();
      const used = Object.fromEntries(Object.entries(after).map(([name, ms]) => [name, ms - (before[name] ?? 0)]));
      return { ...used, postgres: postgresMsBetween(postgresBefore, postgresCpuMs()) };
    },
  };
}
