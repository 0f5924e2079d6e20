/**
 * Worker liveness: a running worker registers its pools (one per runner) and beats; the release of dead
 * workers' jobs touches only pools whose heartbeat is stale (or that never registered and have held
 * a job that long), never a live pool's or a run-once pool's. The SIGKILL case end to end is
 * test/reliability/faults/workerCrash.test.ts.
 */
import { loadConfig, MODULES } from "../../src/modules/index.ts";
import { ConfigError } from "../../src/platform/config.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { startWorker } from "../../src/platform/worker/runner.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { until } from "../helpers/wait.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

const pools = async () =>
  (
    await db.ownerPool.query<{ id: string; label: string }>(
      "select id, label from app_private.worker_pools order by label",
    )
  ).rows;

test("a worker registers the pools of its runners, beats, and unregisters when it stops", async () => {
  const worker = await startWorker({
    modules: MODULES,
    connectionString: db.urls.ownerUrl,
    concurrency: 2,
    logger: createLogger("silent"),
    mail: { from: "test@example.test" },
    liveness: { heartbeatSeconds: 1, staleAfterSeconds: 2 },
  });
  try {
    await until(async () => (await pools()).length === 3, "the three pools to register");
    expect((await pools()).map((pool) => pool.label)).toEqual(["contms", "jobs", "mail"]);
    const {
      rows: [first],
    } = await db.ownerPool.query<{ beat: Date }>("select max(beat_at) as beat from app_private.worker_pools");
    await until(async () => {
      const { rows } = await db.ownerPool.query("select 1 from app_private.worker_pools where beat_at > $1", [
        first!.beat,
      ]);
      return rows.length === 3;
    }, "a later beat of the three pools");
  } finally {
    await worker.stop();
  }
  expect(await pools()).toEqual([]);
});

test("only the jobs of stale or never-registered continuous pools are released", async () => {
  await db.ownerPool.query(
    `insert into app_private.worker_pools (id, label, hostname, pid, beat_at) values
       ('pool-dead', 'mail', 'gone', 1, now() - interval '10 minutes'),
       ('pool-alive', 'jobs', 'here', 2, now())`,
  );
  const lock = async (lockedBy: string, lockedFor: string) => {
    const { rows } = await db.ownerPool.query<{ id: string }>(
      "select id from graphile_worker.add_job('worker_heartbeat', '{}', run_at => now() + interval '1 day')",
    );
    await db.ownerPool.query(
      "update graphile_worker._private_jobs set locked_by = $2, locked_at = now() - $3::interval where id = $1",
      [rows[0]!.id, lockedBy, lockedFor],
    );
    return rows[0]!.id;
  };
  const dead = await lock("pool-dead", "1 minute");
  const alive = await lock("pool-alive", "2 hours");
  const unregisteredOld = await lock("pool-never-registered", "10 minutes");
  const unregisteredNew = await lock("pool-just-started", "1 second");
  const runOnce = await lock("otpool-elsewhere", "10 minutes");

  const { rows } = await db.ownerPool.query<{ released: number }>(
    "select app_private.release_dead_workers(interval '5 minutes') as released",
  );
  expect(rows[0]!.released).toBe(2);
  const state = await db.ownerPool.query<{ id: string; locked_by: string | null }>(
    "select id::text, locked_by from graphile_worker._private_jobs where id = any($1::bigint[]) order by id",
    [[dead, alive, unregisteredOld, unregisteredNew, runOnce]],
  );
  expect(state.rows).toEqual([
    { id: dead, locked_by: null },
    { id: alive, locked_by: "pool-alive" },
    { id: unregisteredOld, locked_by: null },
    { id: unregisteredNew, locked_by: "pool-just-started" },
    { id: runOnce, locked_by: "otpool-elsewhere" },
  ]);
  expect((await pools()).map((pool) => pool.id)).toEqual(["pool-alive"]);
});

test("a stale threshold shorter than two heartbeats is refused", () => {
  expect(() => loadConfig({ WORKER_HEARTBEAT_SECONDS: "10", WORKER_STALE_SECONDS: "15" })).toThrow(ConfigError);
  expect(() => loadConfig({ WORKER_HEARTBEAT_SECONDS: "10", WORKER_STALE_SECONDS: "15" })).toThrow(
    /WORKER_STALE_SECONDS: must be at least twice WORKER_HEARTBEAT_SECONDS/,
  );
});
