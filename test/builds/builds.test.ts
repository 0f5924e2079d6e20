/**
 * Builds end to end: requesting (the event and the job commit with the build, or not at all), the
 * built-in executor, cancelling, releases (activate, supersede, rollback, one active under
 * concurrency), who may do what, and buildUpdated over graphql-ws.
 */
import type { TaskList } from "graphile-worker";
import { errorCodes, gql } from "../commerce/store.ts";
import { listening, startTestApp, type TestApp } from "../helpers/app.ts";
import { queuedJobs } from "../helpers/jobs.ts";
import { createUser, grantRole, SET_TENANT_MODULE } from "../helpers/fixtures.ts";
import { watchUntilReadable } from "../helpers/rowSubscriptions.ts";
import { asUser, become, claimsOf, committedAs, heldTransaction, untilWaitingOrDone } from "../helpers/sql.ts";
import { until } from "../helpers/wait.ts";
import {
  ACTIVATE,
  BUILD_FIELDS,
  type BuildTenant,
  buildRow,
  buildTasks,
  CANCEL_BUILD,
  createBuildTenant,
  logOf,
  REQUEST_BUILD,
  ROLLBACK,
  requestBuild,
  runBuildJobs,
} from "./helpers.ts";

let app: TestApp;
let tasks: TaskList;
let t: BuildTenant;
let other: BuildTenant;

beforeAll(async () => {
  app = await startTestApp();
  tasks = buildTasks(app, { command: undefined });
  t = await createBuildTenant(app);
  other = await createBuildTenant(app);
});
afterAll(async () => {
  await app.stop();
});

async function eventsOf(buildId: string) {
  const { rows } = await app.db.ownerPool.query<{ type: string; payload: Record<string, unknown> }>(
    "select type, payload from app_private.domain_events where aggregate_type = 'build' and aggregate_id = $1",
    [buildId],
  );
  return rows;
}

async function jobsOf(buildId: string) {
  return (await queuedJobs(app.db.ownerPool, "run_build")).filter((job) => job.payload.buildId === buildId);
}

/** A succeeded build of the tenant (requested and run by the built-in executor). */
async function succeededBuild(tenant: BuildTenant): Promise<string> {
  const id = await requestBuild(app, tenant.admin.token);
  await runBuildJobs(app, tasks);
  expect((await buildRow(app.db.ownerPool, id))?.status).toBe("succeeded");
  return id;
}

test("a request in a transaction that rolls back leaves no build, no event and no job", async () => {
  const id = await asUser(app.db, claimsOf(t.admin), async (client) => {
    const { rows } = await client.query<{ id: string; status: string }>(
      "select id, status from app_public.request_build()",
    );
    expect(rows[0]!.status).toBe("queued");
    return rows[0]!.id;
  });
  expect(await buildRow(app.db.ownerPool, id)).toBeUndefined();
  expect(await eventsOf(id)).toEqual([]);
  expect(await jobsOf(id)).toEqual([]);
});

test("a committed request has its build_requested event and one run_build job", async () => {
  const data = await gql(app, t.admin.token, REQUEST_BUILD);
  const build = data.requestBuild.build;
  expect(build.status).toBe("queued");
  // The snapshot is the tenant's enabled modules (the whole catalogue: a new tenant has every one on).
  const catalogue = await app.db.ownerPool.query<{ name: string }>("select name from app_public.modules order by name");
  expect(build.modules).toEqual(catalogue.rows.map((row) => row.name));
  const events = await eventsOf(build.rowId);
  expect(events).toEqual([
    { type: "build_requested", payload: { buildId: build.rowId, requestedBy: t.admin.id, modules: build.modules } },
  ]);
  const jobs = await jobsOf(build.rowId);
  expect(jobs.map((job) => job.key)).toEqual([`run_build:${build.rowId}`]);
  await runBuildJobs(app, tasks);
});

test("the built-in executor records its steps and succeeds", async () => {
  const id = await requestBuild(app, t.admin.token);
  await runBuildJobs(app, tasks);
  const data = await gql(
    app,
    t.admin.token,
    `query($id: UUID!) { build(rowId: $id) { ${BUILD_FIELDS}
    logLines(orderBy: LINE_NUMBER_ASC) { nodes { lineNumber stream text } } } }`,
    { id },
  );
  expect(data.build.status).toBe("succeeded");
  expect(data.build.startedAt).toBeTruthy();
  expect(data.build.finishedAt).toBeTruthy();
  const lines = data.build.logLines.nodes as Array<{ lineNumber: number; stream: string; text: string }>;
  expect(lines.map((line) => line.lineNumber)).toEqual(lines.map((_, i) => i + 1));
  expect(lines[0]!.text).toContain("module(s) enabled");
  expect(lines.some((line) => line.text === "module commerce: configuration checked")).toBe(true);
  expect(lines.at(-1)).toEqual({ lineNumber: lines.length, stream: "system", text: "build succeeded" });
  // The job ran once: running it again changes nothing.
  await runBuildJobs(app, tasks);
  expect(await logOf(app.db.ownerPool, id)).toHaveLength(lines.length);
});

test("cancelBuild: a queued build is cancelled and never runs; a finished one is a CONFLICT", async () => {
  const id = await requestBuild(app, t.admin.token);
  const data = await gql(app, t.admin.token, CANCEL_BUILD, { id });
  expect(data.cancelBuild.build).toEqual({ rowId: id, status: "cancelled" });
  expect(await jobsOf(id)).toEqual([]);
  await runBuildJobs(app, tasks);
  expect(await buildRow(app.db.ownerPool, id)).toEqual({ status: "cancelled", line_count: 1 });
  const again = await app.graphql(CANCEL_BUILD, { id }, t.admin.token);
  expect(errorCodes(again.body)).toEqual(["CONFLICT"]);
});

test("activating releases supersedes the previous one; rollback brings it back", async () => {
  const first = await succeededBuild(t);
  const second = await succeededBuild(t);
  const r1 = (await gql(app, t.admin.token, ACTIVATE, { buildId: first })).activateRelease.release;
  expect(r1).toMatchObject({ status: "active", buildId: first });
  const r2 = (await gql(app, t.admin.token, ACTIVATE, { buildId: second })).activateRelease.release;
  expect(r2).toMatchObject({ status: "active", buildId: second });
  const statuses = async () =>
    Object.fromEntries(
      (await gql(app, t.admin.token, "{ releases { nodes { rowId status } } }")).releases.nodes.map(
        (r: { rowId: string; status: string }) => [r.rowId, r.status],
      ),
    );
  expect(await statuses()).toEqual({ [r1.rowId]: "superseded", [r2.rowId]: "active" });

  const back = (await gql(app, t.admin.token, ROLLBACK)).rollbackRelease.release;
  expect(back).toEqual({ rowId: r1.rowId, status: "active", buildId: first });
  expect(await statuses()).toEqual({ [r1.rowId]: "active", [r2.rowId]: "rolled_back" });
  // Nothing before the first release: a CONFLICT, and the active one stays.
  const none = await app.graphql(ROLLBACK, {}, t.admin.token);
  expect(errorCodes(none.body)).toEqual(["CONFLICT"]);
  expect(await statuses()).toEqual({ [r1.rowId]: "active", [r2.rowId]: "rolled_back" });

  // Only a succeeded build can be released.
  const queued = await requestBuild(app, t.admin.token);
  const refused = await app.graphql(ACTIVATE, { buildId: queued }, t.admin.token);
  expect(errorCodes(refused.body)).toEqual(["CONFLICT"]);
  await runBuildJobs(app, tasks);
});

test("concurrent activations leave exactly one active release", async () => {
  const builds = [await succeededBuild(other), await succeededBuild(other), await succeededBuild(other)];
  const answers = await Promise.all(
    builds.flatMap((buildId) => [1, 2].map(() => app.graphql(ACTIVATE, { buildId }, other.admin.token))),
  );
  for (const answer of answers) expect(answer.body.errors).toBeUndefined();
  const { rows } = await app.db.ownerPool.query<{ n: number }>(
    "select count(*)::int as n from app_public.releases where tenant_id = $1 and status = 'active'",
    [other.tenant.id],
  );
  expect(rows[0]!.n).toBe(1);
});

test("releases are dated when the release lock is held: a rollback brings back the one superseded last", async () => {
  // Fails on the code before the fix: the activation that waited dated its superseding at its
  // transaction's start, before the other's, and the rollback brought back the first release.
  const shop = await createBuildTenant(app);
  const [first, second, third] = [await succeededBuild(shop), await succeededBuild(shop), await succeededBuild(shop)];
  await gql(app, shop.admin.token, ACTIVATE, { buildId: first });
  // A transaction that begins now and activates the third build only after the second is activated.
  let began = false;
  let proceed!: () => void;
  const go = new Promise<void>((resolve) => (proceed = resolve));
  const late = committedAs(
    app.db.rootPool,
    app.db.urls.visitorRole,
    (client) => become(client, claimsOf(shop.admin)),
    async (client) => {
      began = true;
      await go;
      await client.query("select app_public.activate_release($1)", [third]);
    },
  );
  await until(() => began, "the late transaction to begin");
  await gql(app, shop.admin.token, ACTIVATE, { buildId: second });
  proceed();
  await late;
  const back = (await gql(app, shop.admin.token, ROLLBACK)).rollbackRelease.release;
  expect(back).toMatchObject({ status: "active", buildId: second });
});

test("a build requested while builds is switched off is cancelled or refused, never left queued", async () => {
  // Fails on the code before the fix: the switch-off missed the build being requested, which then ran.
  const shop = await createBuildTenant(app);
  const requesting = heldTransaction(app.db, claimsOf(shop.admin), (client) =>
    client.query("select id from app_public.request_build()"),
  );
  await until(requesting.written, "the build to be requested");
  const switchingOff = gql(app, shop.admin.token, SET_TENANT_MODULE, { module: "builds", enabled: false });
  await untilWaitingOrDone(app.db, switchingOff, "the switch-off to wait, or to end");
  requesting.release();
  await Promise.all([requesting.committed, switchingOff]);
  const { rows } = await app.db.ownerPool.query("select status from app_public.builds where tenant_id = $1", [
    shop.tenant.id,
  ]);
  expect(rows).toEqual([{ status: "cancelled" }]);
  // Switched off first (its transaction open), a request waits for it and is refused.
  await gql(app, shop.admin.token, SET_TENANT_MODULE, { module: "builds", enabled: true });
  const switching = heldTransaction(app.db, claimsOf(shop.admin), (client) =>
    client.query("select app_public.set_tenant_module('builds', false)"),
  );
  await until(switching.written, "the module to be switched off");
  const request = app.graphql(REQUEST_BUILD, {}, shop.admin.token);
  await untilWaitingOrDone(app.db, request, "the request to wait, or to be answered");
  switching.release();
  const [, answer] = await Promise.all([switching.committed, request]);
  expect(errorCodes(answer.body)).toEqual(["FORBIDDEN"]);
});

test("another tenant cannot see or act on a build; a member without builds.manage cannot either", async () => {
  const id = await succeededBuild(t);
  for (const user of [other.admin, t.member]) {
    const seen = await gql(app, user.token, `query($id: UUID!) { build(rowId: $id) { rowId } }`, { id });
    expect(seen.build).toBeNull();
    const seenLines = await gql(
      app,
      user.token,
      "{ buildLogLines { nodes { buildId } } releases { nodes { buildId } } }",
    );
    expect(seenLines.buildLogLines.nodes).not.toContainEqual({ buildId: id });
    expect(seenLines.releases.nodes).not.toContainEqual({ buildId: id });
  }
  const list = await gql(app, other.admin.token, "{ builds { nodes { rowId } } }");
  expect(list.builds.nodes.map((b: { rowId: string }) => b.rowId)).not.toContain(id);
  expect(errorCodes((await app.graphql(CANCEL_BUILD, { id }, other.admin.token)).body)).toEqual(["NOT_FOUND"]);
  expect(errorCodes((await app.graphql(ACTIVATE, { buildId: id }, other.admin.token)).body)).toEqual(["NOT_FOUND"]);
  for (const [query, variables] of [
    [REQUEST_BUILD, {}],
    [CANCEL_BUILD, { id }],
    [ACTIVATE, { buildId: id }],
    [ROLLBACK, {}],
  ] as const) {
    expect(errorCodes((await app.graphql(query, variables, t.member.token)).body)).toEqual(["FORBIDDEN"]);
  }
  expect((await gql(app, t.member.token, "{ builds { nodes { rowId } } }")).builds.nodes).toEqual([]);
});

test("buildUpdated delivers the build's status and its new log lines over graphql-ws", async () => {
  const id = await requestBuild(app, t.admin.token);
  type Update = { build: { rowId: string; status: string }; newLogLines: Array<{ lineNumber: number; text: string }> };
  const updates: Update[] = [];
  const errors: unknown[] = [];
  const client = app.wsClient(t.admin.token);
  client.subscribe(
    {
      query: `subscription($id: UUID!) { buildUpdated(id: $id) {
        build { rowId status } newLogLines { lineNumber stream text } } }`,
      variables: { id },
    },
    {
      next: (value) => {
        const data = value.data as { buildUpdated: Update } | undefined;
        if (data) updates.push(data.buildUpdated);
        if (value.errors) errors.push(value.errors);
      },
      error: (error) => errors.push(error),
      complete: () => undefined,
    },
  );
  await listening(app, `tenant:${t.tenant.id}:builds`);
  // Another build of the tenant does not reach this subscription.
  const unrelated = await requestBuild(app, t.admin.token);
  await runBuildJobs(app, tasks);
  await until(() => updates.some((u) => u.build.status === "succeeded"), "the succeeded build over the subscription");
  await until(
    () => updates.flatMap((u) => u.newLogLines).some((line) => line.text === "build succeeded"),
    "the last log line over the subscription",
  );
  expect(errors).toEqual([]);
  expect(updates.every((u) => u.build.rowId === id)).toBe(true);
  expect(unrelated).not.toBe(id);
  // Every line arrives once, in order.
  const numbers = updates.flatMap((u) => u.newLogLines.map((line) => line.lineNumber));
  const stored = await logOf(app.db.ownerPool, id);
  expect(numbers).toEqual(stored.map((_, i) => i + 1));
  await client.dispose();
});

test("buildUpdated tells a member without builds.manage nothing, until the member may read the build", async () => {
  const id = await requestBuild(app, t.admin.token);
  const watcher = await createUser(app.db.ownerPool, t.tenant, "member");
  const received = await watchUntilReadable(app, {
    channel: `tenant:${t.tenant.id}:builds`,
    id,
    query: "subscription($id: UUID!) { buildUpdated(id: $id) { build { rowId status } } }",
    rowOf: (data) => (data as { buildUpdated: { build: { rowId: string } | null } }).buildUpdated.build,
    readerToken: t.admin.token,
    watcherToken: watcher.token,
    change: () => gql(app, t.admin.token, CANCEL_BUILD, { id }),
    grant: () => grantRole(app.db.ownerPool, watcher.id, t.tenant.id, "admin"),
  });
  // Before the grant it got nothing, not even `build: null` (an event checked just after the grant may pass).
  expect(received.filter((row) => JSON.stringify(row) !== JSON.stringify({ rowId: id, status: "cancelled" }))).toEqual(
    [],
  );
});

test("at most five builds of a tenant queued or running, and one requestBuild per request", async () => {
  const busy = await createBuildTenant(app);
  for (let i = 0; i < 5; i++) await requestBuild(app, busy.admin.token);
  const sixth = await app.graphql(REQUEST_BUILD, {}, busy.admin.token);
  expect(errorCodes(sixth.body)).toEqual(["CONFLICT"]);
  const details = (sixth.body.errors?.[0]?.extensions as { details?: unknown } | undefined)?.details;
  expect(details).toMatchObject({ reason: "TOO_MANY_BUILDS" });
  const count = await app.db.ownerPool.query("select count(*)::int as n from app_public.builds where tenant_id = $1", [
    busy.admin.tenantId,
  ]);
  expect(count.rows[0].n).toBe(5);
  // Aliases cannot ask for more than one build in one request.
  const twice = await app.graphql(
    "mutation { a: requestBuild(input: {}) { build { rowId } } b: requestBuild(input: {}) { build { rowId } } }",
    {},
    other.admin.token,
  );
  expect(errorCodes(twice.body)).toEqual(["QUERY_TOO_COMPLEX"]);
});

test("a build that is no longer running takes no more output", async () => {
  const id = await requestBuild(app, other.admin.token);
  await app.db.ownerPool.query("select * from app_private.start_build($1)", [id]);
  const running = await app.db.ownerPool.query("select app_private.append_build_log($1, '{stdout}', '{before}') as s", [
    id,
  ]);
  expect(running.rows[0].s).toBe("running");
  await gql(app, other.admin.token, CANCEL_BUILD, { id });
  const late = await app.db.ownerPool.query("select app_private.append_build_log($1, '{stdout}', '{after}') as s", [
    id,
  ]);
  expect(late.rows[0].s).toBe("cancelled");
  expect((await logOf(app.db.ownerPool, id)).map(([, text]) => text)).toEqual(["before", "build cancelled"]);
});
