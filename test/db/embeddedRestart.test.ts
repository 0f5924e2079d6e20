/**
 * A command started while another process stops the embedded cluster it started (Ctrl-C, then
 * `npm start` again at once) waits for that stop and starts the cluster itself. Attached instead, it
 * lost the cluster a moment later and answered ECONNREFUSED from then on.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { startEmbeddedPostgres } from "../../src/platform/db/embedded.ts";
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
