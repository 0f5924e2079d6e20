/**
 * An embedded PostgreSQL data directory of a test's own, in a temporary directory: its state file
 * gives the cluster a free port (every first start would prefer 54320, and two test runs at once
 * raced for it: "could not create any TCP/IP sockets"), and removing it stops a postmaster a failed
 * run (or a SIGKILLed server) left behind first.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readPostmasterPid } from "../../src/platform/db/embeddedProbes.ts";
import { freePort } from "./process.ts";
import { until } from "./wait.ts";

export interface TemporaryCluster {
  dataDir: string;
  /** Its state file (`<data dir>.json`): the port and the password. */
  stateFile: string;
  /** The port its state file gives the cluster. */
  port: number;
  /** Stops a postmaster left running, then removes everything. */
  remove(): Promise<void>;
}

export async function temporaryCluster(prefix: string): Promise<TemporaryCluster> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  // As root, PostgreSQL runs as the postgres OS user, which must traverse to the data directory.
  chmodSync(root, 0o755);
  const dataDir = join(root, "pg");
  const stateFile = `${dataDir}.json`;
  const port = await freePort();
  writeFileSync(stateFile, JSON.stringify({ port, password: randomBytes(18).toString("base64url") }), { mode: 0o600 });
  return {
    dataDir,
    stateFile,
    port,
    async remove() {
      const postmaster = readPostmasterPid(dataDir);
      if (postmaster) {
        try {
          process.kill(postmaster.pid, "SIGINT");
          await until(() => !existsSync(join(dataDir, "postmaster.pid")), "the left postmaster to stop", 30_000);
        } catch {
          // already gone
        }
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
