/**
 * Jobs belong to a tenant: a tenant's owner or admin sees and acts on their own tenant's jobs only;
 * platform operators (named from the command line) see every job, platform ones included, and
 * alone release workers' locks.
 */
import { makeDomainEventTask } from "../../src/platform/worker/domainEvent.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestTenant, type TestUser } from "../helpers/fixtures.ts";
import { runDueJobs } from "../helpers/jobs.ts";

let app: TestApp;
let tenantA: TestTenant;
let tenantB: TestTenant;
let ownerA: TestUser;
let adminA: TestUser;
let managerA: TestUser;
let ownerB: TestUser;

beforeAll(async () => {
  app = await startTestApp();
  tenantA = await createTenant(app.db.ownerPool);
  tenantB = await createTenant(app.db.ownerPool);
  ownerA = await createUser(app.db.ownerPool, tenantA, "owner");
  adminA = await createUser(app.db.ownerPool, tenantA, "admin");
  managerA = await createUser(app.db.ownerPool, tenantA, "manager");
  ownerB = await createUser(app.db.ownerPool, tenantB, "owner");
});
afterAll(() => app.stop());

const FAILED = "{ failedJobs { nodes { rowId task lastError tenantId } } }";
const RETRY = `mutation ($id: BigInt!) { retryJob(input: { jobId: $id }) { job { rowId attempts } } }`;
const DISCARD = `mutation ($id: BigInt!) { discardJob(input: { jobId: $id }) { discarded } }`;

/** A scrub_user job enqueued the real way: an owner deletes a member over GraphQL; then it fails once. */
async function tenantJob(owner: TestUser, error: string): Promise<string> {
  const victim = await createUser(app.db.ownerPool, { id: owner.tenantId, slug: "x" }, "member");
  const deleted = await app.graphql(
    `mutation ($id: UUID!) { deleteUser(input: { userId: $id }) { deleted } }`,
    { id: victim.id },
    owner.token,
  );
  expect(deleted.body.errors).toBeUndefined();
  const { rows } = await app.db.ownerPool.query<{ id: string }>(
    "update graphile_worker._private_jobs set attempts = 1, last_error = $2 where key = $1 returning id::text",
    [`scrub_user:${victim.id}`, error],
  );
  return rows[0]!.id;
}

async function platformJob(error: string): Promise<string> {
  const { rows } = await app.db.ownerPool.query<{ id: string }>(
    "select id::text from graphile_worker.add_job('worker_heartbeat', '{}')",
  );
  await app.db.ownerPool.query("update graphile_worker._private_jobs set attempts = 1, last_error = $2 where id = $1", [
    rows[0]!.id,
    error,
  ]);
  return rows[0]!.id;
}

const failedIds = async (token: string) => {
  const { body } = await app.graphql(FAILED, undefined, token);
  expect(body.errors).toBeUndefined();
  return (body.data as { failedJobs: { nodes: Array<{ rowId: string; tenantId: string | null; lastError: string }> } })
    .failedJobs.nodes;
};

test(
  "a tenant's owner and admin see and act on their own tenant's jobs only; " + "another tenant's job is NOT_FOUND",
  async () => {
    const jobA = await tenantJob(ownerA, "A's error");
    const jobB = await tenantJob(ownerB, "B's secret error");
    const jobP = await platformJob("platform error");

    for (const user of [ownerA, adminA]) {
      const nodes = await failedIds(user.token);
      expect(nodes.map((node) => node.rowId)).toContain(jobA);
      expect(nodes.map((node) => node.rowId)).not.toContain(jobB);
      expect(nodes.map((node) => node.rowId)).not.toContain(jobP);
      expect(nodes.every((node) => node.tenantId === tenantA.id)).toBe(true);
      expect(JSON.stringify(nodes)).not.toContain("B's secret error");
    }
    expect((await failedIds(ownerB.token)).map((node) => node.rowId)).toEqual([jobB]);

    // B's job cannot be run now or deleted from A; A's own job can.
    for (const mutation of [RETRY, DISCARD]) {
      const { body } = await app.graphql(mutation, { id: jobB }, ownerA.token);
      expect(body.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    }
    expect(
      (await app.db.ownerPool.query("select attempts from graphile_worker.jobs where id = $1", [jobB])).rows,
    ).toEqual([{ attempts: 1 }]);
    const retried = await app.graphql(RETRY, { id: jobA }, adminA.token);
    expect(retried.body.data).toEqual({ retryJob: { job: { rowId: jobA, attempts: 0 } } });
    const discarded = await app.graphql(DISCARD, { id: jobA }, ownerA.token);
    expect(discarded.body.data).toEqual({ discardJob: { discarded: true } });

    // A manager has no jobs.manage; releasing workers is for operators.
    expect((await app.graphql(FAILED, undefined, managerA.token)).body.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const unlock = await app.graphql(`mutation { unlockStaleJobs(input: {}) { unlocked } }`, undefined, ownerA.token);
    expect(unlock.body.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  },
);

test("a tenant's owner sees only their tenant's locked jobs", async () => {
  const jobA = await tenantJob(ownerA, "x");
  const jobB = await tenantJob(ownerB, "y");
  await app.db.ownerPool.query(
    "update graphile_worker._private_jobs set locked_at = now(), locked_by = 'some-worker' where id = " +
      "any($1::bigint[])",
    [[jobA, jobB]],
  );
  const { body } = await app.graphql("{ lockedJobs { nodes { rowId } } }", undefined, ownerA.token);
  expect(body.data).toEqual({ lockedJobs: { nodes: [{ rowId: jobA }] } });
  await app.db.ownerPool.query(
    "update graphile_worker._private_jobs set locked_at = null, locked_by = null where id = any($1::bigint[])",
    [[jobA, jobB]],
  );
});

test("an operator sees every tenant's jobs and platform jobs, acts on any, and alone unlocks workers", async () => {
  // An operator need not be powerful in their own tenant: a member, named by `npm run init -- --operator`.
  const operator = await createUser(app.db.ownerPool, await createTenant(app.db.ownerPool), "member");
  await app.db.ownerPool.query("insert into app_private.platform_operators (user_id) values ($1)", [operator.id]);
  const jobA = await tenantJob(ownerA, "a");
  const jobB = await tenantJob(ownerB, "b");
  const jobP = await platformJob("p");
  const nodes = await failedIds(operator.token);
  expect(nodes).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ rowId: jobA, tenantId: tenantA.id }),
      expect.objectContaining({ rowId: jobB, tenantId: tenantB.id }),
      expect.objectContaining({ rowId: jobP, tenantId: null }),
    ]),
  );
  expect((await app.graphql(RETRY, { id: jobB }, operator.token)).body.data).toEqual({
    retryJob: { job: { rowId: jobB, attempts: 0 } },
  });
  expect((await app.graphql(DISCARD, { id: jobP }, operator.token)).body.data).toEqual({
    discardJob: { discarded: true },
  });

  await app.db.ownerPool.query(
    "update graphile_worker._private_jobs set locked_at = now() - interval '2 hours', locked_by = " +
      "'dead-worker' where id = $1",
    [jobA],
  );
  const unlocked = await app.graphql(
    `mutation { unlockStaleJobs(input: { lockedForMinutes: 60 }) { unlocked } }`,
    undefined,
    operator.token,
  );
  expect(unlocked.body.data).toEqual({ unlockStaleJobs: { unlocked: 1 } });
});

test("jobs carry their tenant however they are enqueued", async () => {
  /** The tenant of the one job `sql` enqueues, in a transaction that is rolled back. */
  const tenantOf = async (sql: string, params: unknown[] = []) => {
    const client = await app.db.ownerPool.connect();
    let tenants: Array<string | null>;
    try {
      await client.query("begin");
      const last = "select coalesce(max(id), 0)::text as id from graphile_worker._private_jobs";
      const before = (await client.query<{ id: string }>(last)).rows[0]!.id;
      await client.query(sql, params);
      // Only the jobs this statement added: an older job's tenant must not stand in for a missing one.
      const { rows } = await client.query<{ tenant: string | null }>(
        "select payload->>'tenantId' as tenant from graphile_worker._private_jobs where id > $1::bigint",
        [before],
      );
      tenants = rows.map((row) => row.tenant);
    } finally {
      await client.query("rollback");
      client.release();
    }
    expect([sql, tenants.length]).toEqual([sql, 1]);
    return tenants[0];
  };
  // A domain event, published outside any request: the event's tenant.
  expect(await tenantOf("select app_private.publish_event('something_happened', $1, 'thing', 'x')", [tenantB.id])).toBe(
    tenantB.id,
  );
  // A job naming a user, from the worker or a command: the user's tenant.
  expect(
    await tenantOf("select app_private.enqueue_job('scrub_user', json_build_object('userId', $1::uuid))", [ownerB.id]),
  ).toBe(tenantB.id);
  // Code working for a tenant outside a request says so with tessera.tenant_id.
  expect(
    await tenantOf(
      "select set_config('tessera.tenant_id', $1, true), app_private.enqueue_job('send_email', '{\"template\":\"x\"}')",
      [tenantA.id],
    ),
  ).toBe(tenantA.id);
  // Bulk enqueues too.
  expect(
    await tenantOf(
      "select app_private.enqueue_jobs(array[row('scrub_user', json_build_object('userId', $1::uuid), null, " +
        "null, null, null, null, null)::graphile_worker.job_spec])",
      [ownerA.id],
    ),
  ).toBe(tenantA.id);
  // Nothing to go by: a platform job.
  expect(await tenantOf("select app_private.enqueue_job('worker_heartbeat')")).toBeNull();
});

test("two tenants' domain events in one batch: no tenant's job; its retry with A's event alone is A's", async () => {
  const probe = makeDomainEventTask({
    jobs_probe: [
      {
        name: "probe",
        handle: async (_client, event) => {
          if (event.tenant_id === tenantA.id) throw new Error("A's event failed");
        },
      },
    ],
  });
  const events = [
    { tenant_id: tenantA.id, aggregate_id: "a" },
    { tenant_id: tenantB.id, aggregate_id: "b" },
  ];
  await app.db.ownerPool.query("select app_private.publish_events('jobs_probe', 'probe', $1::jsonb)", [
    JSON.stringify(events),
  ]);
  const { rows } = await app.db.ownerPool.query<{ id: string }>(
    `select j.id::text from graphile_worker._private_jobs j
     where json_typeof(j.payload) = 'array' and j.payload::text like '%' || $1 || '%'`,
    [tenantB.id],
  );
  expect(rows).toHaveLength(1);
  const batch = rows[0]!.id;
  await app.db.ownerPool.query(
    "update graphile_worker._private_jobs set attempts = 1, last_error = 'x' where id = $1",
    [batch],
  );
  for (const owner of [ownerA, ownerB]) {
    expect((await failedIds(owner.token)).map((node) => node.rowId)).not.toContain(batch);
    const { body } = await app.graphql(DISCARD, { id: batch }, owner.token);
    expect(body.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  }

  // Run for real: B's event is delivered, A's fails, and graphile-worker keeps only A's in the job.
  await app.db.ownerPool.query("update graphile_worker._private_jobs set attempts = 0 where id = $1", [batch]);
  await runDueJobs(app.db.ownerPool, { domain_event: probe });
  const failedForA = (await failedIds(ownerA.token)).find((node) => node.rowId === batch);
  expect(failedForA).toMatchObject({ tenantId: tenantA.id, lastError: expect.stringContaining("A's event failed") });
  expect((await failedIds(ownerB.token)).map((node) => node.rowId)).not.toContain(batch);
  const discarded = await app.graphql(DISCARD, { id: batch }, ownerA.token);
  expect(discarded.body.data).toEqual({ discardJob: { discarded: true } });
});

test("the e-mails a tenant's users get from outside a request are that tenant's jobs", async () => {
  const emailJobs = async (template: string) =>
    (
      await app.db.ownerPool.query<{ id: string; tenant: string | null }>(
        "select id::text, payload->>'tenantId' as tenant from graphile_worker._private_jobs where task_id = " +
          "(select id from graphile_worker._private_tasks where identifier = 'send_email') and " +
          "payload->>'template' = $1",
        [template],
      )
    ).rows;
  // Anonymous flows: a registration code and a password reset, asked over REST.
  const registered = await fetch(`${app.url}/api/auth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      tenant: tenantA.slug,
      email: "newcomer@example.test",
      username: "newcomer",
      password: "a long and unusual passphrase 42",
    }),
  });
  expect(registered.status).toBe(202);
  const forgot = await fetch(`${app.url}/api/auth/password/forgot`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ tenant: tenantB.slug, email: ownerB.email }),
  });
  expect(forgot.status).toBe(202);
  // Node-side flows of the worker and the auth service: password changed, 2FA switched off.
  await app.db.ownerPool.query("select app_private.set_password($1, 'x', null, 'test')", [adminA.id]);
  await app.db.ownerPool.query("select app_private.disable_two_factor($1)", [ownerB.id]);

  expect(await emailJobs("registration_code")).toEqual([expect.objectContaining({ tenant: tenantA.id })]);
  expect(await emailJobs("password_reset")).toEqual([expect.objectContaining({ tenant: tenantB.id })]);
  expect(await emailJobs("password_changed")).toEqual([expect.objectContaining({ tenant: tenantA.id })]);
  expect(await emailJobs("two_factor_disabled")).toEqual([expect.objectContaining({ tenant: tenantB.id })]);

  // What the tenant's owner notices: a registration e-mail that failed is in their failedJobs.
  const [code] = await emailJobs("registration_code");
  await app.db.ownerPool.query(
    "update graphile_worker._private_jobs set attempts = max_attempts, last_error = 'smtp down' where id = $1",
    [code!.id],
  );
  expect((await failedIds(ownerA.token)).map((node) => node.rowId)).toContain(code!.id);
  expect((await failedIds(ownerB.token)).map((node) => node.rowId)).not.toContain(code!.id);
});

test("a store's bot-event push, recorded outside a request (a provider's webhook), is the store's job", async () => {
  const { rows: bots } = await app.db.ownerPool.query<{ id: string }>(
    "insert into app_public.bots (tenant_id, name, webhook_url) values ($1, 'Pushy', 'http://127.0.0.1:9/hook') " +
      "returning id",
    [tenantA.id],
  );
  // As the payment webhook and the poller record them: the owner's connection, no caller, no tenant setting.
  const { rows: events } = await app.db.ownerPool.query<{ id: string }>(
    "select app_private.record_bot_event($1, $2, 'payment.succeeded', '{}')::text as id",
    [tenantA.id, bots[0]!.id],
  );
  const { rows: jobs } = await app.db.ownerPool.query<{ id: string }>(
    "update graphile_worker._private_jobs set attempts = 1, last_error = 'fetch failed' " +
      "where payload->>'id' = $1 and task_id = (select id from graphile_worker._private_tasks " +
      "where identifier = 'push_bot_event') returning id::text",
    [events[0]!.id],
  );
  const push = jobs[0]!.id;
  expect((await failedIds(ownerA.token)).filter((node) => node.rowId === push)).toEqual([
    expect.objectContaining({ rowId: push, tenantId: tenantA.id, lastError: "fetch failed" }),
  ]);
  expect((await failedIds(ownerB.token)).map((node) => node.rowId)).not.toContain(push);
  const retried = await app.graphql(RETRY, { id: push }, ownerA.token);
  expect(retried.body.data).toEqual({ retryJob: { job: { rowId: push, attempts: 0 } } });
});

test("unlockStaleJobs refuses fewer than one minute: a job locked right now stays locked", async () => {
  const operator = await createUser(app.db.ownerPool, await createTenant(app.db.ownerPool), "member");
  await app.db.ownerPool.query("insert into app_private.platform_operators (user_id) values ($1)", [operator.id]);
  const running = await tenantJob(ownerA, "running");
  await app.db.ownerPool.query(
    "update graphile_worker._private_jobs set locked_at = now() - interval '1 second', locked_by = " +
      "'live-worker' where id = $1",
    [running],
  );
  try {
    for (const minutes of [0, -5]) {
      const { body } = await app.graphql(
        `mutation ($m: Int) { unlockStaleJobs(input: { lockedForMinutes: $m }) { unlocked } }`,
        { m: minutes },
        operator.token,
      );
      expect([minutes, body.errors?.[0]?.extensions]).toEqual([
        minutes,
        { code: "VALIDATION_FAILED", details: { field: "lockedForMinutes" } },
      ]);
    }
    expect(
      (await app.db.ownerPool.query("select locked_by from graphile_worker.jobs where id = $1", [running])).rows,
    ).toEqual([{ locked_by: "live-worker" }]);
  } finally {
    await app.db.ownerPool.query(
      "update graphile_worker._private_jobs set locked_at = null, locked_by = null where id = $1",
      [running],
    );
  }
});
