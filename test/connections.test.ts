/**
 * Lost database connections (a failover, an operator's pg_terminate_backend, a dropped database):
 * every pool and client has an `error` listener, so the process logs and carries on — an `error`
 * event without a listener would end it (here: fail the test file with "Unhandled error").
 */
import { MODULES } from "../src/modules/index.ts";
import pg from "pg";
import { withClient } from "../src/platform/db/cluster.ts";
import { watchClient } from "../src/platform/db/pools.ts";
import { createLogger } from "../src/platform/logger.ts";
import { startWorker } from "../src/platform/worker/runner.ts";
import { listening, startTestApp, type TestApp } from "./helpers/app.ts";
import { createTestDatabase } from "./helpers/database.ts";
import { createTenant, createUser } from "./helpers/fixtures.ts";
import { ENV_ROOT_URL } from "./setup/testCluster.ts";
import { until } from "./helpers/wait.ts";

const SUBSCRIPTION = "subscription { notificationAdded { notification { title } } }";
const SET_MODULE =
  `mutation ($enabled: Boolean!) { setTenantModule(input: { module: "events", enabled: $enabled }) { ` +
  `tenantModule { enabled } } }`;

/** Terminates every connection to the app's database (but `spare`); resolves once they are gone. */
async function terminateAll(app: TestApp, spare: number[] = []): Promise<number> {
  const pids = await withClient(app.db.serverRootUrl, async (client) => {
    const { rows } = await client.query<{ pid: number }>(
      "select pid, pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> all($2::int[])",
      [app.db.name, spare],
    );
    return rows.map((row) => row.pid);
  });
  await until(async () => {
    const { rows } = await withClient(app.db.serverRootUrl, (client) =>
      client.query("select 1 from pg_stat_activity where pid = any($1::int[])", [pids]),
    );
    return rows.length === 0;
  }, "the terminated backends to exit");
  return pids.length;
}

describe("when PostgreSQL terminates the app's connections", () => {
  const logLines: string[] = [];
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ worker: true, logLines });
  });
  afterAll(() => app.stop());

  test("the app logs it, and still answers /ready, GraphQL, subscriptions and jobs", async () => {
    const tenant = await createTenant(app.db.ownerPool);
    const user = await createUser(app.db.ownerPool, tenant);
    // Every kind of connection is open: request and owner pools, the LISTEN connection of
    // subscriptions, graphile-worker's pool and its LISTEN connection.
    const before: unknown[] = [];
    const beforeErrors: unknown[] = [];
    app.wsClient(user.token).subscribe(
      { query: SUBSCRIPTION },
      {
        next: (value) => void before.push(value),
        error: (error) => void beforeErrors.push(error),
        complete: () => {},
      },
    );
    await listening(app, `user:${user.id}:notifications`);
    expect((await fetch(`${app.url}/ready`)).status).toBe(200);

    expect(await terminateAll(app)).toBeGreaterThanOrEqual(4);

    expect((await fetch(`${app.url}/ready`)).status).toBe(200);
    const { body } = await app.graphql("{ currentUser { email } }", undefined, user.token);
    expect(body).toEqual({ data: { currentUser: { email: user.email } } });
    // The subscription whose LISTEN died is ended with an error (it may have missed messages);
    // a new one works.
    await until(() => beforeErrors.length === 1, "the interrupted subscription to end");
    const after: Array<{ data?: { notificationAdded: { notification: { title: string } } } }> = [];
    app
      .wsClient(user.token)
      .subscribe(
        { query: SUBSCRIPTION },
        { next: (value) => void after.push(value as never), error: () => {}, complete: () => {} },
      );
    await listening(app, `user:${user.id}:notifications`);
    await app.db.ownerPool.query(
      "insert into app_public.instant_notifications (tenant_id, recipient_id, kind, title, content) values " +
        "($1, $2, 'test', 'Still here', '')",
      [tenant.id, user.id],
    );
    await until(() => after.length === 1, "the notification on the new subscription");
    expect(after[0]!.data!.notificationAdded.notification.title).toBe("Still here");
    // The worker still takes jobs: a new tenant's event sets up its modules.
    const another = await app.db.ownerPool.query<{ id: string }>(
      "insert into app_public.tenants (slug, name) values ('after-cut', 'After') returning id",
    );
    await until(
      async () =>
        (
          await app.db.ownerPool.query("select 1 from app_public.tenant_modules where tenant_id = $1", [
            another.rows[0]!.id,
          ])
        ).rows.length > 0,
      "the worker to run the tenant's event",
    );

    // Logged, with PostgreSQL's reason.
    expect(logLines.some((line) => line.includes("terminating connection due to administrator command"))).toBe(true);
  });

  test(
    "a request waiting in the database when its connection dies gets an error answer; " + "the next one works",
    async () => {
      const tenant = await createTenant(app.db.ownerPool);
      const owner = await createUser(app.db.ownerPool, tenant, "owner");
      // Hold the row the mutation updates, so that the request waits inside PostgreSQL.
      const locker = await app.db.rootPool.connect();
      try {
        await locker.query("begin");
        await locker.query(
          "select 1 from app_public.tenant_modules where tenant_id = $1 and module = 'events' for update",
          [tenant.id],
        );
        const { rows } = await locker.query<{ pid: number }>("select pg_backend_pid() as pid");
        const waiting = app.graphql(SET_MODULE, { enabled: false }, owner.token);
        await until(
          async () =>
            (
              await app.db.rootPool.query(
                "select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
              )
            ).rows.length > 0,
          "the request to wait for the lock",
        );
        await terminateAll(app, [rows[0]!.pid]);
        // Before: the checked-out client had no listener, and its "Connection terminated
        // unexpectedly" ended the process. Now the request fails, documented, and that is all.
        const answer = await waiting;
        expect(answer.body.errors?.[0]?.extensions?.code).toBe("SERVICE_UNAVAILABLE");
        expect(answer.body.data).toEqual({ setTenantModule: null });
        await locker.query("rollback");
      } finally {
        locker.release();
      }
      const again = await app.graphql(SET_MODULE, { enabled: false }, owner.token);
      expect(again.body).toEqual({ data: { setTenantModule: { tenantModule: { enabled: false } } } });
      expect((await fetch(`${app.url}/ready`)).status).toBe(200);
    },
  );
});

test("stopping the worker and at once dropping its database crashes nothing", async () => {
  const logger = createLogger("silent");
  // The drop goes over a connection opened beforehand, to follow stop() as closely as it can:
  // whether a worker connection is still closing when the drop terminates it is a race, so
  // several rounds.
  const admin = watchClient(new pg.Client({ connectionString: process.env[ENV_ROOT_URL] }), undefined, "test-admin");
  await admin.connect();
  try {
    for (let round = 0; round < 5; round++) {
      const db = await createTestDatabase();
      await db.ownerPool.query("insert into app_public.tenants (slug, name) values ('gone', 'Gone')");
      const worker = await startWorker({
        modules: MODULES,
        connectionString: db.urls.ownerUrl,
        concurrency: 2,
        logger,
        mail: { from: "test@example.test" },
      });
      await until(
        async () => (await db.ownerPool.query("select 1 from app_public.tenant_modules")).rows.length > 0,
        "the worker to run the tenant's event",
      );
      await Promise.all([db.ownerPool.end(), db.rootPool.end()]);
      await worker.stop();
      await admin.query(`drop database ${pg.escapeIdentifier(db.name)} with (force)`);
    }
  } finally {
    await admin.end();
  }
}, 120_000);
