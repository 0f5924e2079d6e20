/**
 * Where the embedded PostgreSQL (src/platform/db/embedded.ts) keeps its cluster, and who owns it:
 * as root, PostgreSQL runs as the `postgres` OS user, which must reach and own the data directory.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chownSync, existsSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { makeDirectorySync } from "../directories.ts";
import type { Logger } from "../logger.ts";

export function osUserExists(name: string): boolean {
  try {
    execFileSync("id", ["-u", name], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** As root, initdb runs as `postgres`: that user must own the data directory. */
export function handOverToPostgresUser(dataDir: string): void {
  const uid = Number(execFileSync("id", ["-u", "postgres"]).toString());
  const gid = Number(execFileSync("id", ["-g", "postgres"]).toString());
  makeDirectorySync(dataDir, 0o700);
  chownSync(dataDir, uid, gid);
}

/**
 * The `postgres` OS user must be able to traverse every parent of the data directory. When the
 * project sits somewhere it cannot (e.g. under /root), keep the cluster under /var/tmp instead,
 * in a directory named after the project path so that restarts find it again.
 */
export function reachableDataDir(dataDir: string, logger: Logger): string {
  if (process.getuid?.() !== 0) return dataDir;
  let dir = dirname(dataDir);
  while (existsSync(dir) === false) dir = dirname(dir);
  for (let current = dir; ; current = dirname(current)) {
    if ((statSync(current).mode & 0o001) === 0) {
      const fallback = join(
        existsSync("/var/tmp") ? "/var/tmp" : tmpdir(),
        `tessera-pg-${createHash("sha256").update(dataDir).digest("hex").slice(0, 12)}`,
        "pg",
      );
      logger.warn({ dataDir, fallback }, "the postgres OS user cannot reach the data directory; using a fallback");
      return fallback;
    }
    if (current === dirname(current)) return dataDir;
  }
}
