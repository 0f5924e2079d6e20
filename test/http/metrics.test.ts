/** /metrics after real traffic: HTTP by route template, GraphQL by operation, jobs, queue, pools. */
import request from "supertest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestUser } from "../helpers/fixtures.ts";
import { until } from "../helpers/wait.ts";

let app: TestApp;
let user: TestUser;
beforeAll(async () => {
  app = await startTestApp({ worker: true });
  user = await createUser(app.db.ownerPool, await createTenant(app.db.ownerPool, "measured"), "member");
});
afterAll(() => app.stop());

const scrape = async () => (await request(app.url).get("/metrics")).text;
const value = (text: string, line: RegExp) => Number(line.exec(text)?.[1] ?? 0);

test("counters move for the right route template and GraphQL operation name", async () => {
  const before = await scrape();
  const usersRoute = /tessera_http_requests_total\{method="GET",route="\/api\/users\/:id",status="404"\} (\d+)/;
  const operation = /tessera_graphql_operations_total\{operation="WhoAmI",type="query",outcome="success"\} (\d+)/;
  const failing = /tessera_graphql_operations_total\{operation="Broken",type="mutation",outcome="error"\} (\d+)/;

  for (let i = 0; i < 3; i++) {
    await request(app.url).get(`/api/users/${crypto.randomUUID()}`).set("Authorization", `Bearer ${user.token}`);
  }
  await app.graphql("query WhoAmI { currentUser { rowId } }", undefined, user.token);
  await app.graphql("query WhoAmI { currentUser { rowId } }", undefined, user.token);
  await app.graphql(`mutation Broken { setTenantModule(input: { module: "events", enabled: false }) { clientMutationId } }`, undefined, user.token);

  const after = await scrape();
  expect(value(after, usersRoute) - value(before, usersRoute)).toBe(3);
  expect(value(after, operation) - value(before, operation)).toBe(2);
  expect(value(after, failing) - value(before, failing)).toBe(1);
  // Raw paths never become labels.
  expect(after).not.toMatch(/route="\/api\/users\/[0-9a-f]{8}-/);
  expect(after).toMatch(/tessera_http_request_duration_seconds_bucket\{le="0.005",method="POST",route="\/graphql",status="200"\}/);
  expect(after).toMatch(/tessera_db_pool_connections\{pool="authenticator",state="total"\} \d+/);
  expect(after).toMatch(/process_resident_memory_bytes \d+/);
});

test("worker jobs and queue depth are reported", async () => {
  const jobLine = /tessera_worker_jobs_total\{task="domain_event",outcome="success"\} (\d+)/;
  // The tenant made in beforeAll has its own domain_event job: it must be counted before `before`
  // is read (a job leaves the queue after its success is counted).
  const queued = async () => (await app.db.ownerPool.query("select 1 from graphile_worker.jobs where task_identifier = 'domain_event'")).rows.length;
  await until(async () => (await queued()) === 0, "earlier domain events to be done");
  const before = value(await scrape(), jobLine);
  await createTenant(app.db.ownerPool, "another-one");
  await until(async () => (await queued()) === 0 && value(await scrape(), jobLine) > before, "the new tenant's event to be counted");
  expect(value(await scrape(), jobLine)).toBe(before + 1);

  await app.db.ownerPool.query("select graphile_worker.add_job('send_email', '{}', run_at => now() + interval '1 hour')");
  expect(value(await scrape(), /tessera_worker_queue_jobs\{state="pending"\} (\d+)/)).toBeGreaterThanOrEqual(1);
});
