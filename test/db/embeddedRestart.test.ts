/**
 * A command started while another process stops the embedded cluster it started (Ctrl-C, then
 * `npm start` again at once) waits for that stop and starts the cluster itself. Attached instead, it
 * lost the cluster a moment later and answered ECONNREFUSED from then on. A cluster whose owner
 * was killed outright is adopted by the next command, which stops it.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import pg from "pg";
import { startEmbeddedPostgres } from "../../src/platform/db/embedded.ts";
import { processIsAlive, readPostmasterPid } from "../../src/platform/db/embeddedProbes.ts";
import { projectRoot } from "../../src/platform/paths.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { type TemporaryCluster, temporaryCluster } from "../helpers/embeddedCluster.ts";
import { freePort, spawnEntryPoint } from "../helpers/process.ts";
import { until } from "../helpers/wait.ts";

let cluster: TemporaryCluster;
let dataDir: string;
let postmasterFile: string;
let port: number;

beforeAll(async () => {
  cluster = await temporaryCluster("tessera-restart-");
  ({ dataDir, port } = cluster);
  postmasterFile = join(dataDir, "postmaster.pid");
});

afterAll(() => cluster.remove());

test("a start while the owner stops the cluster waits for the stop and starts the cluster itself", async () => {
  // Fails on the code before: the second start attached (owned: false) and lost the cluster with the first.
  const options = { dataDir, preferredPort: port, logger: createLogger("silent"), ephemeral: true };
  const first = await startEmbeddedPostgres(options);
  expect(first.owned).toBe(true);
  // As a stopping process says first, while its requests and jobs drain.
  first.stopping();
  const second = startEmbeddedPostgres(options);
  await first.stop();
  const next = await second;
  try {
    expect(next.owned).toBe(true);
    const client = new pg.Client({ connectionString: next.rootUrl });
    await client.connect();
    try {
      expect((await client.query("select 1 as one")).rows).toEqual([{ one: 1 }]);
    } finally {
      await client.end();
    }
    // The mark of the stop is gone with it: a later command attaches to this cluster as usual.
    expect(existsSync(`${dataDir}.stopping`)).toBe(false);
    const attached = await startEmbeddedPostgres(options);
    expect([attached.owned, attached.port]).toEqual([false, next.port]);
  } finally {
    await next.stop();
  }
  expect(existsSync(postmasterFile)).toBe(false);
}, 120_000);

test("Ctrl-C while npm start is starting (the cluster up, migrations running) stops the cluster too", async () => {
  // Fails on the code before: the signal ended the process at once (Node's default, the handler
  // came once started) and the postmaster ran on, for every later command to attach to.
  const own = await temporaryCluster("tessera-start-interrupted-");
  try {
    const start = spawnEntryPoint("start.ts", {
      EMBEDDED_DATABASE_DIR: own.dataDir,
      PORT: String(await freePort()),
      LOG_LEVEL: "info",
    });
    await until(() => start.output().includes("embedded PostgreSQL is up"), "the cluster to be up", 120_000);
    start.child.kill("SIGINT");
    expect(await start.exited).toBe(0);
    expect(start.output()).toContain('"msg":"shutting down"');
    expect(existsSync(join(own.dataDir, "postmaster.pid"))).toBe(false);
  } finally {
    await own.remove();
  }
}, 180_000);

test("a cluster whose owner was killed outright is adopted by the next command, which stops it when it ends; of two " +
  "at once, one adopts", async () => {
  // Fails on the code before: every later command attached (owned: false) and left the postmaster
  // running after it ended, for good.
  const own = await temporaryCluster("tessera-orphan-");
  try {
    const embedded = pathToFileURL(join(projectRoot, "src", "platform", "db", "embedded.ts")).href;
    const logger = pathToFileURL(join(projectRoot, "src", "platform", "logger.ts")).href;
    const script =
      `const { startEmbeddedPostgres } = await import(${JSON.stringify(embedded)});` +
      `const { createLogger } = await import(${JSON.stringify(logger)});` +
      `await startEmbeddedPostgres({ dataDir: ${JSON.stringify(own.dataDir)}, preferredPort: ${own.port}, ` +
      `logger: createLogger("silent"), ephemeral: true });` +
      `process.stdout.write("up\\n"); setInterval(() => {}, 1000);`;
    const owner = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    owner.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    owner.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await until(() => output.includes("up\n"), "the owner to start the cluster", 120_000);
    const postmaster = readPostmasterPid(own.dataDir)!;
    // A heap out of memory aborts as outright: no exit handler runs.
    owner.kill("SIGKILL");
    await new Promise((resolve) => owner.once("exit", resolve));
    expect(processIsAlive(postmaster.pid)).toBe(true);

    const options = { dataDir: own.dataDir, preferredPort: own.port, logger: createLogger("silent") };
    const [a, b] = await Promise.all([startEmbeddedPostgres(options), startEmbeddedPostgres(options)]);
    expect([a.owned, b.owned].sort()).toEqual([false, true]);
    const adopter = a.owned ? a : b;
    expect(JSON.parse(readFileSync(own.stateFile, "utf8")).owner).toBe(process.pid);
    const client = new pg.Client({ connectionString: adopter.rootUrl });
    await client.connect();
    expect((await client.query("select 1 as one")).rows).toEqual([{ one: 1 }]);
    await client.end();
    await adopter.stop();
    expect(processIsAlive(postmaster.pid)).toBe(false);
    expect(existsSync(join(own.dataDir, "postmaster.pid"))).toBe(false);
  } finally {
    await own.remove();
  }
}, 180_000);
