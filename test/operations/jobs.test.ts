/** The failed/stuck jobs view and its mutations, as a platform operator (tenants' view: jobTenancy.test.ts). */
import { MODULES } from "../../src/modules/index.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { makeTaskList } from "../../src/platform/worker/registry.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestUser } from "../helpers/fixtures.ts";
import { runDueJobs } from "../helpers/jobs.ts";
import { lockWaiters } from "../helpers/sql.ts";
import { until } from "../helpers/wait.ts";

let app: TestApp;
let operator: TestUser;
let tenantOwner: TestUser;

beforeAll(async () => {
  app = await startTestApp();
  const platform = await createTenant(app.db.ownerPool, "platform");
  operator = await createUser(app.db.ownerPool, platform, "owner");
  // What `npm run init -- --operator <email>` writes.
  await app.db.ownerPool.query("insert into app_private.platform_operators (user_id) values ($1)", [operator.id]);
  tenantOwner = await createUser(app.db.ownerPool, await createTenant(app.db.ownerPool, "customer"), "owner");
});
afterAll(() => app.stop());

const FAILED = "{ failedJobs { nodes { rowId task attempts maxAttempts lastError } } }";
const LOCKED = "{ lockedJobs { nodes { rowId task lockedBy } } }";

async function failedJob(task: string, error: string): Promise<string> {
  const { rows } = await app.db.ownerPool.query<{ id: string }>(
    'select id from graphile_worker.add_job($1, \'{"secret":"123456"}\', max_attempts => 1::smallint)',
    [task],
  );
  const id = rows[0]!.id;
  await app.db.ownerPool.query("update graphile_worker._private_jobs set attempts = 1, last_error = $2 where id = $1", [
    id,
    error,
  ]);
  return id;
}

test("an operator sees failed jobs (never their payload), retries one and discards another", async () => {
  const toRetry = await failedJob("send_email", "SMTP said no");
  const toDiscard = await failedJob("event_reminder", "boom");
  const { body } = await app.graphql(FAILED, undefined, operator.token);
  expect(body.errors).toBeUndefined();
  expect(body.data).toEqual({
    failedJobs: {
      nodes: [
        { rowId: toRetry, task: "send_email", attempts: 1, maxAttempts: 1, lastError: "SMTP said no" },
        { rowId: toDiscard, task: "event_reminder", attempts: 1, maxAttempts: 1, lastError: "boom" },
      ],
    },
  });
  expect(JSON.stringify(body)).not.toContain("123456");

  const retried = await app.graphql(
    `mutation ($id: BigInt!) { retryJob(input: { jobId: $id }) { job { attempts runAt } } }`,
    { id: toRetry },
    operator.token,
  );
  expect(retried.body.data).toEqual({ retryJob: { job: { attempts: 0, runAt: expect.any(String) } } });
  const discarded = await app.graphql(
    `mutation ($id: BigInt!) { discardJob(input: { jobId: $id }) { discarded } }`,
    { id: toDiscard },
    operator.token,
  );
  expect(discarded.body.data).toEqual({ discardJob: { discarded: true } });

  const after = await app.db.ownerPool.query(
    "select id::text, attempts from graphile_worker.jobs where task_identifier <> 'domain_event' order by id",
  );
  expect(after.rows).toEqual([{ id: toRetry, attempts: 0 }]);
  const missing = await app.graphql(
    `mutation ($id: BigInt!) { discardJob(input: { jobId: $id }) { discarded } }`,
    { id: toDiscard },
    operator.token,
  );
  expect(missing.body.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
});

test("a job that has not failed (a reminder due later) is neither retried nor discarded: NOT_FOUND", async () => {
  // Fails on the code before the fix: an admin fired a member's reminder days early, or deleted it.
  const { rows } = await app.db.ownerPool.query<{ id: string; run_at: Date }>(
    "select id, run_at from graphile_worker.add_job('event_reminder', '{}', run_at => now() + interval '3 days')",
  );
  const pending = rows[0]!;
  for (const mutation of [
    "mutation ($id: BigInt!) { retryJob(input: { jobId: $id }) { job { runAt } } }",
    "mutation ($id: BigInt!) { discardJob(input: { jobId: $id }) { discarded } }",
  ]) {
    const answer = await app.graphql(mutation, { id: pending.id }, operator.token);
    expect(answer.body.errors?.map((error) => error.extensions?.code)).toEqual(["NOT_FOUND"]);
  }
  const after = await app.db.ownerPool.query("select run_at from graphile_worker.jobs where id = $1", [pending.id]);
  expect(after.rows).toEqual([{ run_at: pending.run_at }]);
  await app.db.ownerPool.query("select graphile_worker.complete_jobs(array[$1::bigint])", [pending.id]);
});

test("discards of a failed job that another discard is deleting answer NOT_FOUND, not true", async () => {
  // Fails on the code before the fix: each waited for the first deletion, deleted nothing, and still
  // answered true.
  const id = await failedJob("send_email", "SMTP said no");
  const first = await app.db.ownerPool.connect();
  try {
    await first.query("begin");
    await first.query("select graphile_worker.complete_jobs(array[$1::bigint])", [id]);
    const discard = "mutation ($id: BigInt!) { discardJob(input: { jobId: $id }) { discarded } }";
    const others = Array.from({ length: 5 }, () => app.graphql(discard, { id }, operator.token));
    await until(async () => (await lockWaiters(app.db)) === 5, "the five discards to wait for the first");
    await first.query("commit");
    const answers = await Promise.all(others);
    expect(answers.map((answer) => answer.body.errors?.[0]?.extensions?.code)).toEqual(Array(5).fill("NOT_FOUND"));
  } finally {
    first.release();
  }
});

test("a job that failed once is listed at once, with its error and next attempt, and counted as retrying", async () => {
  const retrying = async () =>
    Number(
      /tessera_worker_queue_jobs\{state="retrying"\} (\d+)/.exec(
        await (await fetch(`${app.url}/metrics`)).text(),
      )?.[1] ?? "NaN",
    );
  const before = await retrying();
  // A reminder job without its participant: the real task fails it, and graphile-worker schedules
  // attempt 2 of 25 a few seconds later.
  const { rows } = await app.db.ownerPool.query<{ id: string }>(
    "select id from graphile_worker.add_job('event_reminder', '{}')",
  );
  const { event_reminder } = makeTaskList({ modules: MODULES, mail: app.config.mail, logger: createLogger("silent") });
  await runDueJobs(app.db.ownerPool, { event_reminder });
  // runOnce returns before graphile-worker has written the outcome (it does not await it).
  await until(
    async () =>
      (
        await app.db.ownerPool.query("select 1 from graphile_worker.jobs where id = $1 and last_error is not null", [
          rows[0]!.id,
        ])
      ).rowCount === 1,
    "the job to be marked failed",
  );

  const { body } = await app.graphql(
    "{ failedJobs { nodes { rowId task attempts maxAttempts lastError runAt } } }",
    undefined,
    operator.token,
  );
  expect(body.errors).toBeUndefined();
  const nodes = (body.data as { failedJobs: { nodes: Array<{ rowId: string; runAt: string }> } }).failedJobs.nodes;
  const listed = nodes.find((node) => node.rowId === rows[0]!.id);
  expect(listed).toEqual({
    rowId: rows[0]!.id,
    task: "event_reminder",
    attempts: 1,
    maxAttempts: 25,
    lastError: expect.stringContaining("event_reminder: invalid payload (participantId"),
    runAt: expect.any(String),
  });
  const {
    rows: [now],
  } = await app.db.ownerPool.query<{ now: Date }>("select now()");
  expect(new Date(listed!.runAt).getTime()).toBeGreaterThan(now!.now.getTime());
  expect(await retrying()).toBe(before + 1);
});

test("jobs held by a dead worker are listed and unlocked", async () => {
  const { rows } = await app.db.ownerPool.query<{ id: string }>(
    "select id from graphile_worker.add_job('send_email', '{}')",
  );
  await app.db.ownerPool.query(
    "update graphile_worker._private_jobs set locked_at = now() - interval '2 hours', locked_by = " +
      "'worker-that-crashed' where id = $1",
    [rows[0]!.id],
  );
  const locked = await app.graphql(LOCKED, undefined, operator.token);
  expect(locked.body.data).toEqual({
    lockedJobs: { nodes: [{ rowId: rows[0]!.id, task: "send_email", lockedBy: "worker-that-crashed" }] },
  });
  const unlocked = await app.graphql(
    `mutation { unlockStaleJobs(input: { lockedForMinutes: 30 }) { unlocked } }`,
    undefined,
    operator.token,
  );
  expect(unlocked.body.data).toEqual({ unlockStaleJobs: { unlocked: 1 } });
  const state = await app.db.ownerPool.query("select locked_at from graphile_worker.jobs where id = $1", [rows[0]!.id]);
  expect(state.rows).toEqual([{ locked_at: null }]);
});

test("a tenant's owner sees none of the platform's jobs and cannot release workers", async () => {
  await failedJob("send_email", "a platform job's error");
  const failed = await app.graphql("{ failedJobs { totalCount } }", undefined, tenantOwner.token);
  expect(failed.body).toEqual({ data: { failedJobs: { totalCount: 0 } } });
  const unlock = await app.graphql(
    `mutation { unlockStaleJobs(input: {}) { unlocked } }`,
    undefined,
    tenantOwner.token,
  );
  expect(unlock.body.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  expect((await app.graphql(FAILED)).body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
});
