/**
 * What an operator's command says about an embedded cluster it cannot use as it is: a data directory
 * of other files, a state file whose port is no port, a cluster without this code's schema. Each had
 * ended the command with a stack trace.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startEmbeddedPostgres } from "../../src/platform/db/embedded.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { projectRoot } from "../../src/platform/paths.ts";
import { type TemporaryCluster, temporaryCluster } from "../helpers/embeddedCluster.ts";

let cluster: TemporaryCluster;

beforeAll(async () => {
  cluster = await temporaryCluster("tessera-damaged-");
});

afterAll(() => cluster.remove());

const task = (...args: string[]) =>
  spawnSync(process.execPath, [join(projectRoot, "src", "cli", "task.ts"), ...args], {
    env: { PATH: process.env.PATH, EMBEDDED_DATABASE_DIR: cluster.dataDir, LOG_LEVEL: "silent" },
    encoding: "utf8",
    timeout: 60_000,
  });

const stackTrace = /^\s+at /m;

test("a data directory holding other files is refused in one line, and its files are left alone", () => {
  mkdirSync(cluster.dataDir, { recursive: true });
  const notes = join(cluster.dataDir, "notes.txt");
  writeFileSync(notes, "not a cluster");
  try {
    const refused = task("cleanup", "sessions");
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe(
      `EMBEDDED_DATABASE_DIR: ${cluster.dataDir} holds files but no PostgreSQL cluster (no PG_VERSION): ` +
        "set it to an empty or new directory, or move those files away.\n",
    );
    expect(readFileSync(notes, "utf8")).toBe("not a cluster");
  } finally {
    // The next test starts the cluster in this directory.
    rmSync(notes, { force: true });
  }
}, 60_000);

test("a state file whose port is no port: the cluster starts on a free one, and the file names it", async () => {
  const { password } = JSON.parse(readFileSync(cluster.stateFile, "utf8")) as { password: string };
  const options = { dataDir: cluster.dataDir, preferredPort: 0, logger: createLogger("silent"), ephemeral: true };
  for (const port of ["abc", 70_000, 1.5, -1, null]) {
    writeFileSync(cluster.stateFile, JSON.stringify({ port, password }), { mode: 0o600 });
    const server = await startEmbeddedPostgres(options);
    try {
      expect(server.owned).toBe(true);
      expect(Number.isInteger(server.port) && server.port > 0 && server.port < 65_536).toBe(true);
      expect(JSON.parse(readFileSync(cluster.stateFile, "utf8"))).toEqual({
        port: server.port,
        password,
        owner: process.pid,
      });
    } finally {
      await server.stop();
    }
  }
}, 120_000);

test("a command needing the schema, on a cluster that has none, says to migrate first", () => {
  // The cluster of the tests above was never migrated (a restore's target, or a new one).
  for (const args of [
    ["cleanup", "sessions"],
    ["retry", "1"],
    ["redeliver", "1"],
  ]) {
    const refused = task(...args);
    expect([args, refused.status]).toEqual([args, 1]);
    expect(refused.stderr).toMatch(
      new RegExp(
        "^SERVICE_UNAVAILABLE: The database lacks part of this code's schema \\(.+ does not exist\\): " +
          "apply its migrations first \\(npm run migrate\\)\\.\n$",
      ),
    );
    expect(refused.stderr).not.toMatch(stackTrace);
  }
}, 120_000);
