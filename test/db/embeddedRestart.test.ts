/**
 * A command started while another process stops the embedded cluster it started (Ctrl-C, then
 * `npm start` again at once) waits for that stop and starts the cluster itself. Attached instead, it
 * lost the cluster a moment later and answered ECONNREFUSED from then on.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { startEmbeddedPostgres } from "../../src/platform/db/embedded.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { freePort } from "../helpers/process.ts";
import { until } from "../helpers/wait.ts";

const root = mkdtempSync(join(tmpdir(), "tessera-restart-"));
// As root, PostgreSQL runs as the postgres OS user, which must traverse to the data directory.
chmodSync(root, 0o755);
const dataDir = join(root, "pg");
const postmasterFile = join(dataDir, "postmaster.pid");
let port: number;

beforeAll(async () => {
  // A port of its own, as a saved state file gives it (every first start would prefer 54320).
  port = await freePort();
  writeFileSync(`${dataDir}.json`, JSON.stringify({ port, password: randomBytes(18).toString("base64url") }), {
    mode: 0o600,
  });
});

afterAll(async () => {
  // A failed run may leave a postmaster: stop it before removing its directory.
  const pid = existsSync(postmasterFile) ? Number(readFileSync(postmasterFile, "utf8").split("\n")[0]) : 0;
  if (pid) {
    try {
      process.kill(pid, "SIGINT");
      await until(() => !existsSync(postmasterFile), "the postmaster to stop", 30_000);
    } catch {
      // already gone
    }
  }
  rmSync(root, { recursive: true, force: true });
});

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
