import { EventEmitter } from "node:events";
import { run, type Runner, type WorkerEvents } from "graphile-worker";
import type { PoolClient } from "pg";
import { workerLogger } from "../../src/platform/db/migrate.ts";
import { MODULES } from "../../src/modules/index.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { startWorker } from "../../src/platform/worker/runner.ts";
import type { Consumer } from "../../src/platform/worker/consumers.ts";
import { makeDomainEventTask } from "../../src/platform/worker/domainEvent.ts";
import { makeTaskList } from "../../src/platform/worker/registry.ts";
import { createTestDatabase, type TestDatabase, testPool } from "../helpers/database.ts";
import { type QueuedJob, queuedJobs, runDueJobs } from "../helpers/jobs.ts";
import { asVisitor } from "../helpers/roles.ts";
import { until } from "../helpers/wait.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

const logger = createLogger("silent");
const taskList = makeTaskList({ modules: MODULES, mail: { from: "test@example.test" }, logger });

const jobs = (task: string) => queuedJobs(db.ownerPool, task);
/** The items of a batch job's payload (none for a job of one event). */
const batchItems = (job: QueuedJob) => (Array.isArray(job.payload) ? (job.payload as { id: number }[]) : []);
const TENANT_A = "0a0a0a0a-0000-4000-8000-00000000000a";
const TENANT_B = "0b0b0b0b-0000-4000-8000-00000000000b";

/** The switchable modules of the catalogue, by name. */
async function catalogue(): Promise<string[]> {
  const { rows } = await db.ownerPool.query<{ name: string }>("select name from app_public.modules order by name");
  return rows.map((row) => row.name);
}

async function modulesOf(tenantId: string) {
  const { rows } = await db.ownerPool.query<{ module: string; enabled: boolean }>(
    "select module, enabled from app_public.tenant_modules where tenant_id = $1 order by module",
    [tenantId],
  );
  return rows;
}

/** Processes every job that is due, with our real task list, then returns. */
const drainQueue = () => runDueJobs(db.ownerPool, taskList);

test("a rolled-back tenant insert publishes no event and enqueues no job", async () => {
  const queuedBefore = await jobs("domain_event");
  const client = await db.ownerPool.connect();
  try {
    await client.query("begin");
    await client.query("insert into app_public.tenants (slug, name) values ('ghost', 'Ghost')");
    await client.query("rollback");
  } finally {
    client.release();
  }
  const { rows } = await db.ownerPool.query("select * from app_private.domain_events where payload->>'slug' = 'ghost'");
  expect(rows).toEqual([]);
  expect(await jobs("domain_event")).toEqual(queuedBefore);
});

test("a committed tenant publishes tenant_created, and its consumer sets up the modules exactly once", async () => {
  const { rows } = await db.ownerPool.query<{ id: string }>(
    "insert into app_public.tenants (slug, name) values ('acme', 'Acme') returning id",
  );
  const tenantId = rows[0]!.id;

  const events = await db.ownerPool.query(
    "select type, aggregate_type, aggregate_id from app_private.domain_events where tenant_id = $1",
    [tenantId],
  );
  expect(events.rows).toEqual([{ type: "tenant_created", aggregate_type: "tenant", aggregate_id: tenantId }]);
  // This tenant's jobs only: the test must not depend on what other tests left in the queue.
  const eventIds = (
    await db.ownerPool.query<{ id: string }>("select id::text from app_private.domain_events where tenant_id = $1", [
      tenantId,
    ])
  ).rows.map((row) => row.id);
  const ours = async () => (await jobs("domain_event")).filter((job) => eventIds.includes(String(job.payload.id)));
  const queued = await ours();
  expect(queued).toHaveLength(1);
  expect(await modulesOf(tenantId)).toEqual([]);

  await drainQueue();
  expect(await modulesOf(tenantId)).toEqual((await catalogue()).map((module) => ({ module, enabled: true })));
  expect(await ours()).toEqual([]);

  // An admin switches a module off; then the same delivery runs again (a retry after a crash).
  await db.ownerPool.query(
    "update app_public.tenant_modules set enabled = false where tenant_id = $1 and module = 'events'",
    [tenantId],
  );
  await db.ownerPool.query("select graphile_worker.add_job('domain_event', $1::json)", [
    JSON.stringify(queued[0]!.payload),
  ]);
  await drainQueue();

  const after = await modulesOf(tenantId);
  expect(after).toHaveLength((await catalogue()).length);
  expect(after.find((row) => row.module === "events")).toEqual({ module: "events", enabled: false });
  const deliveries = await db.ownerPool.query(
    "select consumer from app_private.domain_event_deliveries where event_id = $1 order by consumer",
    [queued[0]!.payload.id],
  );
  expect(deliveries.rows).toEqual([{ consumer: "tenant_defaults" }, { consumer: "tenant_identity" }]);
  const roles = await db.ownerPool.query("select name from app_public.roles where tenant_id = $1 order by name", [
    tenantId,
  ]);
  expect(roles.rows.map((row) => row.name)).toEqual(["admin", "manager", "member", "owner"]);
});

test("the domain event log is append-only", async () => {
  await expect(db.ownerPool.query("update app_private.domain_events set type = 'tampered'")).rejects.toMatchObject({
    code: "TFORB",
  });
  await expect(db.ownerPool.query("delete from app_private.domain_events")).rejects.toMatchObject({ code: "TFORB" });
  await expect(db.ownerPool.query("truncate app_private.domain_events cascade")).rejects.toMatchObject({
    code: "TFORB",
  });
});

test("the request role cannot reach the queue or the log directly", async () => {
  await asVisitor(db.rootPool, db.urls.visitorRole, async (client) => {
    await expect(client.query("select * from app_private.domain_events")).rejects.toMatchObject({ code: "42501" });
  });
  await asVisitor(db.rootPool, db.urls.visitorRole, async (client) => {
    await expect(client.query("select app_private.enqueue_job('domain_event')")).rejects.toMatchObject({
      code: "42501",
    });
  });
  await asVisitor(db.rootPool, db.urls.visitorRole, async (client) => {
    await expect(client.query("select graphile_worker.add_job('domain_event')")).rejects.toMatchObject({
      code: "42501",
    });
  });
});

test("the in-process worker picks up a new tenant's event on its own", async () => {
  const worker = await startWorker({
    modules: MODULES,
    connectionString: db.urls.ownerUrl,
    concurrency: 2,
    logger,
    mail: { from: "test@example.test" },
  });
  try {
    const { rows } = await db.ownerPool.query<{ id: string }>(
      "insert into app_public.tenants (slug, name) values ('live', 'Live') returning id",
    );
    const modules = (await catalogue()).length;
    await until(async () => (await modulesOf(rows[0]!.id)).length === modules, "the worker to set up the modules");
    expect(await modulesOf(rows[0]!.id)).toHaveLength(modules);
  } finally {
    await worker.stop();
  }
});

test("three tenants made in one statement: their events in one batch job, each tenant set up", async () => {
  const { rows } = await db.ownerPool.query<{ id: string }>(
    `insert into app_public.tenants (slug, name)
     select 'bulk-' || i, 'Bulk ' || i from generate_series(1, 3) i returning id`,
  );
  const tenantIds = rows.map((row) => row.id);
  const events = await db.ownerPool.query<{ id: string; tenant_id: string }>(
    "select id::text, tenant_id from app_private.domain_events where tenant_id = any($1::uuid[]) order by id",
    [tenantIds],
  );
  expect(events.rows.map((row) => row.tenant_id).sort()).toEqual([...tenantIds].sort());
  const queued = (await jobs("domain_event")).filter((job) =>
    batchItems(job).some((item) => events.rows.some((e) => e.id === String(item.id))),
  );
  expect(queued.map((job) => job.payload)).toEqual([
    events.rows.map((event) => ({ id: Number(event.id), tenantId: event.tenant_id })),
  ]);
  // A batch spanning tenants is a platform job: no tenant sees it among its jobs.
  const owners = await db.ownerPool.query(
    `select t.tenant_id from app_private.job_tenants t join graphile_worker.jobs j on j.id = t.id
     where j.task_identifier = 'domain_event' and t.tenant_id = any($1::uuid[])`,
    [tenantIds],
  );
  expect(owners.rows).toEqual([]);

  await drainQueue();
  const modules = (await catalogue()).length;
  for (const tenantId of tenantIds) {
    expect(await modulesOf(tenantId)).toHaveLength(modules);
    const roles = await db.ownerPool.query("select 1 from app_public.roles where tenant_id = $1", [tenantId]);
    expect(roles.rows).toHaveLength(4);
    const system = await db.ownerPool.query("select email from app_public.users where tenant_id = $1 and is_system", [
      tenantId,
    ]);
    expect(system.rows).toHaveLength(1);
  }
  // The built-in roles grant the catalogue's permissions, read from it: nothing is copied per tenant.
  const permissions = await db.ownerPool.query<{ tenant_id: string; n: number; copied: number }>(
    `select r.tenant_id, count(g.*)::int as n,
       (select count(*)::int from app_public.role_permissions p join app_public.roles c on c.id = p.role_id
        where c.tenant_id = r.tenant_id) as copied
     from app_public.roles r, app_private.role_grants(r.id) as g
     where r.tenant_id = any($1::uuid[]) group by r.tenant_id`,
    [tenantIds],
  );
  const builtin = await db.ownerPool.query("select 1 from app_private.builtin_role_permissions");
  expect(permissions.rows.map(({ n, copied }) => ({ n, copied }))).toEqual(
    tenantIds.map(() => ({ n: builtin.rows.length, copied: 0 })),
  );
});

test("a batch job of one tenant's events is that tenant's job; one naming two tenants is a platform job", async () => {
  const { rows } = await db.ownerPool.query<{ one: string | null; two: string | null; odd: string | null }>(
    `select app_private.payload_tenant_id($1::json) as one, app_private.payload_tenant_id($2::json) as two,
       app_private.payload_tenant_id($3::json) as odd`,
    [
      JSON.stringify([
        { id: 1, tenantId: TENANT_A },
        { id: 2, tenantId: TENANT_A.toUpperCase() },
      ]),
      JSON.stringify([
        { id: 1, tenantId: TENANT_A },
        { id: 2, tenantId: TENANT_B },
      ]),
      JSON.stringify([{ id: 1, tenantId: TENANT_A }, { id: 2 }]),
    ],
  );
  expect(rows[0]).toEqual({ one: TENANT_A, two: null, odd: null });
});

test("a consumer that fails rolls back alone: the one before it stays delivered and the retry skips it", async () => {
  const calls: string[] = [];
  let broken = true;
  const consumer = (name: string, work?: (client: PoolClient) => Promise<void>): Consumer => ({
    name,
    handle: async (client) => {
      calls.push(name);
      await work?.(client);
    },
  });
  const domainEvent = makeDomainEventTask({
    probe_event: [
      consumer("first"),
      consumer("second", async (client) => {
        await client.query("insert into app_public.tenants (slug, name) values ('rolled-back', 'Rolled back')");
        if (broken) throw new Error("second consumer is broken");
      }),
      consumer("third"),
    ],
  });
  const { rows } = await db.ownerPool.query<{ id: string }>(
    "select app_private.publish_event('probe_event', null, 'probe', 'p1', '{}')::text as id",
  );
  const eventId = rows[0]!.id;
  const delivered = async () =>
    (
      await db.ownerPool.query<{ consumer: string }>(
        "select consumer from app_private.domain_event_deliveries where event_id = $1 order by consumer",
        [eventId],
      )
    ).rows.map((row) => row.consumer);
  const tenantsNamed = async () =>
    (await db.ownerPool.query("select 1 from app_public.tenants where slug = 'rolled-back'")).rows.length;

  await runDueJobs(db.ownerPool, { domain_event: domainEvent });
  expect(calls).toEqual(["first", "second"]);
  expect(await delivered()).toEqual(["first"]);
  expect(await tenantsNamed()).toBe(0);
  const failed = await db.ownerPool.query<{ id: string; last_error: string }>(
    "select id::text, last_error from graphile_worker.jobs where task_identifier = 'domain_event' and attempts > 0",
  );
  expect(failed.rows).toHaveLength(1);
  expect(failed.rows[0]!.last_error).toContain("second consumer is broken");

  broken = false;
  await db.ownerPool.query("select graphile_worker.reschedule_jobs(array[$1::bigint], run_at := now())", [
    failed.rows[0]!.id,
  ]);
  await runDueJobs(db.ownerPool, { domain_event: domainEvent });
  expect(calls).toEqual(["first", "second", "second", "third"]);
  expect(await delivered()).toEqual(["first", "second", "third"]);
  expect(await tenantsNamed()).toBe(1);
});

test("a consumer failing on one event of a batch: the rest delivered, the job retried with that one", async () => {
  const calls: string[] = [];
  let broken = true;
  const consumer = (name: string, failOn?: string): Consumer => ({
    name,
    handle: async (_client, event) => {
      calls.push(`${name} ${event.aggregate_id}`);
      if (broken && event.aggregate_id === failOn) throw new Error(`${name} cannot take ${failOn}`);
    },
    handleMany: async (_client, events) => {
      calls.push(`${name} ${events.map((event) => event.aggregate_id).join(",")}`);
      if (broken && events.some((event) => event.aggregate_id === failOn)) throw new Error("batch failed");
    },
  });
  const domainEvent = makeDomainEventTask({
    batch_probe: [consumer("first"), consumer("second", "b2"), consumer("third")],
  });
  await db.ownerPool.query(
    `select app_private.publish_events('batch_probe', 'probe',
       '[{"aggregate_id": "b1"}, {"aggregate_id": "b2"}, {"aggregate_id": "b3"}]')`,
  );
  const { rows: published } = await db.ownerPool.query<{ id: string; aggregate_id: string }>(
    "select id::text, aggregate_id from app_private.domain_events where type = 'batch_probe' order by id",
  );
  const idOf = (aggregate: string) => Number(published.find((event) => event.aggregate_id === aggregate)!.id);
  const delivered = async () =>
    (
      await db.ownerPool.query<{ consumer: string; aggregate_id: string }>(
        `select d.consumer, e.aggregate_id from app_private.domain_event_deliveries d
         join app_private.domain_events e on e.id = d.event_id
         where e.type = 'batch_probe' order by d.consumer, e.aggregate_id`,
      )
    ).rows.map((row) => `${row.consumer} ${row.aggregate_id}`);

  await runDueJobs(db.ownerPool, { domain_event: domainEvent });
  expect(calls).toEqual(["first b1,b2,b3", "second b1,b2,b3", "second b1", "second b2", "second b3", "third b1,b3"]);
  expect(await delivered()).toEqual([
    "first b1",
    "first b2",
    "first b3",
    "second b1",
    "second b3",
    "third b1",
    "third b3",
  ]);
  const retried = async () =>
    (await jobs("domain_event")).filter((job) => batchItems(job).some((item) => item.id === idOf("b2")));
  expect((await retried()).map((job) => job.payload)).toEqual([[{ id: idOf("b2") }]]);
  const failed = await db.ownerPool.query<{ id: string; last_error: string }>(
    "select id::text, last_error from graphile_worker.jobs where task_identifier = 'domain_event' and attempts > 0",
  );
  expect(failed.rows).toHaveLength(1);
  expect(failed.rows[0]!.last_error).toContain("second cannot take b2");

  broken = false;
  calls.length = 0;
  await db.ownerPool.query("select graphile_worker.reschedule_jobs(array[$1::bigint], run_at := now())", [
    failed.rows[0]!.id,
  ]);
  await runDueJobs(db.ownerPool, { domain_event: domainEvent });
  expect(calls).toEqual(["second b2", "third b2"]);
  expect(await delivered()).toEqual([
    "first b1",
    "first b2",
    "first b3",
    "second b1",
    "second b2",
    "second b3",
    "third b1",
    "third b2",
    "third b3",
  ]);
  expect(await retried()).toEqual([]);
});

test("a batch and a redelivery of one of its events, run at once, apply each consumer once per event", async () => {
  const calls: string[] = [];
  const LOCK = 716_016;
  const probe = makeDomainEventTask({
    race_probe: [
      {
        name: "held",
        handle: async (client, event) => {
          await client.query("select pg_advisory_xact_lock_shared($1)", [LOCK]);
          calls.push(event.aggregate_id);
        },
        handleMany: async (client, events) => {
          await client.query("select pg_advisory_xact_lock_shared($1)", [LOCK]);
          calls.push(...events.map((event) => event.aggregate_id));
        },
      },
    ],
  });
  const holder = await db.ownerPool.connect();
  // With the error listeners every pool gets: a connection the server ends while it is idle in the
  // pool (57P01, seen once in two parallel runs) must not throw as the pool's unhandled `error`.
  const pool = testPool(db.urls.ownerUrl, 6, "test-worker");
  const events = new EventEmitter() as WorkerEvents;
  let runner: Runner | undefined;
  try {
    await holder.query("select pg_advisory_lock($1)", [LOCK]);
    await db.ownerPool.query(
      `select app_private.publish_events('race_probe', 'probe', '[{"aggregate_id": "r1"}, {"aggregate_id": "r2"}]')`,
    );
    const { rows } = await db.ownerPool.query<{ id: string }>(
      "select id::text from app_private.domain_events where type = 'race_probe' order by aggregate_id",
    );
    const ours = new Set(rows.map((row) => Number(row.id)));
    // What `npm run task -- redeliver <id>` enqueues, beside the batch job holding the same event.
    await db.ownerPool.query("select graphile_worker.add_job('domain_event', json_build_object('id', $1::bigint))", [
      rows[0]!.id,
    ]);
    let succeeded = 0;
    events.on("job:success", ({ job }) => {
      const items = (Array.isArray(job.payload) ? job.payload : [job.payload]) as { id: number }[];
      if (items.some((item) => ours.has(item.id))) succeeded++;
    });
    runner = await run({
      pgPool: pool,
      concurrency: 2,
      noHandleSignals: true,
      logger: workerLogger(logger),
      events,
      taskList: { domain_event: probe },
    });
    // Both jobs wait: the batch on the held lock, the redelivery on the batch's delivery record of r1.
    const waiting = async () =>
      (
        await db.rootPool.query<{ n: number }>(
          `select count(*)::int as n from pg_stat_activity where datname = current_database()
             and wait_event_type = 'Lock' and wait_event in ('advisory', 'transactionid')`,
        )
      ).rows[0]!.n;
    await until(async () => (await waiting()) === 2, "the batch and the redelivery to wait on each other");
    await holder.query("select pg_advisory_unlock($1)", [LOCK]);
    await until(() => succeeded === 2, "both jobs to succeed");
  } finally {
    await holder.query("select pg_advisory_unlock_all()");
    holder.release();
    await runner?.stop();
    await pool.end();
  }
  expect(calls.sort()).toEqual(["r1", "r2"]);
  const deliveries = await db.ownerPool.query<{ aggregate_id: string; n: number }>(
    `select e.aggregate_id, count(*)::int as n from app_private.domain_event_deliveries d
     join app_private.domain_events e on e.id = d.event_id
     where e.type = 'race_probe' group by e.aggregate_id order by e.aggregate_id`,
  );
  expect(deliveries.rows).toEqual([
    { aggregate_id: "r1", n: 1 },
    { aggregate_id: "r2", n: 1 },
  ]);
});
