/**
 * /metrics after real traffic: HTTP by route template, GraphQL by operation, jobs, queue, pools;
 * label values bounded whatever clients send; METRICS_TOKEN.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
  // The server's own documents (the REST shims') are labelled by name; a client's are `other`, even
  // under one of those names.
  const operation = /tessera_graphql_operations_total\{operation="CurrentUser",type="query",outcome="success"\} (\d+)/;
  const failing = /tessera_graphql_operations_total\{operation="other",type="mutation",outcome="error"\} (\d+)/;
  const borrowed = /tessera_graphql_operations_total\{operation="other",type="query",outcome="error"\} (\d+)/;

  for (let i = 0; i < 3; i++) {
    await request(app.url).get(`/api/users/${crypto.randomUUID()}`).set("Authorization", `Bearer ${user.token}`);
  }
  for (let i = 0; i < 2; i++) {
    const me = await request(app.url).get("/api/users/me").set("Authorization", `Bearer ${user.token}`);
    expect(me.status).toBe(200);
  }
  await app.graphql(
    `mutation Broken { setTenantModule(input: { module: "events", enabled: false }) { clientMutationId } }`,
    undefined,
    user.token,
  );
  await app.graphql("query CurrentUser { failedJobs { totalCount } }", undefined, user.token);

  const after = await scrape();
  expect(value(after, usersRoute) - value(before, usersRoute)).toBe(3);
  expect(value(after, operation) - value(before, operation)).toBe(2);
  expect(value(after, failing) - value(before, failing)).toBe(1);
  expect(value(after, borrowed) - value(before, borrowed)).toBe(1);
  // Raw paths never become labels.
  expect(after).not.toMatch(/route="\/api\/users\/[0-9a-f]{8}-/);
  expect(after).toMatch(
    /tessera_http_request_duration_seconds_bucket\{le="0.005",method="POST",route="\/graphql",status="200"\}/,
  );
  expect(after).toMatch(/tessera_db_pool_connections\{pool="authenticator",state="total"\} \d+/);
  expect(after).toMatch(/process_resident_memory_bytes \d+/);
});

test("a duration histogram counts each operation once, in cumulative buckets, as text and as JSON", async () => {
  const labels = 'operation="CurrentUser",type="query",outcome="success"';
  const series = (text: string, suffix: string) =>
    [
      ...text.matchAll(
        new RegExp(`tessera_graphql_operation_duration_seconds_${suffix}\\{(le="[^"]+",)?${labels}\\} (\\S+)`, "g"),
      ),
    ].map((match) => Number(match[2]));
  const before = await scrape();
  for (let i = 0; i < 3; i++) await request(app.url).get("/api/users/me").set("Authorization", `Bearer ${user.token}`);
  const after = await scrape();
  const [countBefore = 0] = series(before, "count");
  const [count = 0] = series(after, "count");
  expect(count - countBefore).toBe(3);
  const buckets = series(after, "bucket");
  expect(buckets).toHaveLength(12); // 11 bounds and +Inf
  expect(buckets.every((n, i) => i === 0 || n >= buckets[i - 1]!)).toBe(true);
  expect(buckets.at(-1)).toBe(count);
  expect(series(after, "sum")[0]).toBeGreaterThan(0);

  const json = await app.server.metrics.registry.getMetricsAsJSON();
  const histogram = json.find((metric) => metric.name === "tessera_graphql_operation_duration_seconds");
  expect(histogram?.type).toBe("histogram");
  const total = histogram?.values.find(
    (v) =>
      (v as { metricName?: string }).metricName === "tessera_graphql_operation_duration_seconds_count" &&
      v.labels.operation === "CurrentUser" &&
      v.labels.outcome === "success",
  );
  expect(total).toMatchObject({
    value: count,
    labels: { operation: "CurrentUser", type: "query", outcome: "success" },
  });
});

test("worker jobs and queue depth are reported", async () => {
  const jobLine = /tessera_worker_jobs_total\{task="domain_event",outcome="success"\} (\d+)/;
  // The tenant made in beforeAll has its own domain_event job: it must be counted before `before`
  // is read (a job leaves the queue after its success is counted).
  const queued = async () =>
    (await app.db.ownerPool.query("select 1 from graphile_worker.jobs where task_identifier = 'domain_event'")).rows
      .length;
  await until(async () => (await queued()) === 0, "earlier domain events to be done");
  const before = value(await scrape(), jobLine);
  await createTenant(app.db.ownerPool, "another-one");
  await until(
    async () => (await queued()) === 0 && value(await scrape(), jobLine) > before,
    "the new tenant's event to be counted",
  );
  expect(value(await scrape(), jobLine)).toBe(before + 1);

  await app.db.ownerPool.query(
    "select graphile_worker.add_job('send_email', '{}', run_at => now() + interval '1 hour')",
  );
  expect(value(await scrape(), /tessera_worker_queue_jobs\{state="pending"\} (\d+)/)).toBeGreaterThanOrEqual(1);
});

/** Every series line (not HELP/TYPE) of a metric family. */
const series = (text: string, prefix: string) => text.split("\n").filter((line) => line.startsWith(prefix));

test(
  "client-chosen operation names never become labels: 200 random names and a 60 kB name add at most the " +
    "`other` series",
  async () => {
    // `other` series for queries exist from here on: what follows may add none.
    await app.graphql("query Warmup { __typename }", undefined, user.token);
    const before = await scrape();
    const names = Array.from({ length: 200 }, () => `Random_${crypto.randomUUID().replaceAll("-", "")}`);
    for (const name of names) await app.graphql(`query ${name} { __typename }`, undefined, user.token);
    const long = `Long_${"x".repeat(60_000)}`;
    const answered = await app.graphql(`query ${long} { __typename }`, undefined, user.token);
    expect(answered.body.errors).toBeUndefined();

    const after = await scrape();
    expect(after).not.toMatch(/Random_|Long_x/);
    expect(series(after, "tessera_graphql_operation")).toHaveLength(series(before, "tessera_graphql_operation").length);
    const other = /tessera_graphql_operations_total\{operation="other",type="query",outcome="success"\} (\d+)/;
    expect(value(after, other) - value(before, other)).toBe(201);
    // The rest of the output barely grows (the worker's series aside: a cron job that runs meanwhile
    // adds its task's series, whatever the requests were).
    const requestSide = (text: string) =>
      text
        .split("\n")
        .filter((line) => !line.includes("tessera_worker_"))
        .join("\n");
    expect(requestSide(after).length - requestSide(before).length).toBeLessThan(2_000);
  },
);

test("HTTP labels are bounded: methods outside the standard set are `other`, unmatched paths `unmatched`", async () => {
  const path = `/no-such-${crypto.randomUUID()}`;
  const status = await new Promise<number>((resolve, reject) => {
    const req = httpRequest(`${app.url}${path}`, { method: "PROPFIND" }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
  expect(status).toBe(404);
  await request(app.url).get(path);
  const text = await scrape();
  expect(text).toMatch(/tessera_http_requests_total\{method="other",route="unmatched",status="404"\} \d+/);
  expect(text).toMatch(/tessera_http_requests_total\{method="GET",route="unmatched",status="404"\} \d+/);
  expect(text).not.toMatch(/PROPFIND|no-such-/);
});

test("a route is labelled by its template however it is answered: by its handler, refused before it", async () => {
  // Fails on the code that labelled by the router that matched: /api/healthz was "/api/api/healthz",
  // Swagger UI its three paths at once, and a 401 of the token check before any route "unmatched".
  const before = await scrape();
  const counted = (method: string, route: string, status: number) =>
    new RegExp(`tessera_http_requests_total\\{method="${method}",route="${route}",status="${status}"\\} (\\d+)`);
  const expected: Array<[method: string, route: string, status: number, count: number]> = [
    ["GET", "/api/healthz", 200, 2],
    ["GET", "/swagger-ui", 200, 1],
    ["GET", "/api/users/me", 401, 1],
    ["POST", "/api/images", 401, 1],
    ["POST", "/ready", 405, 1],
  ];
  const api = request(app.url);
  await api.get("/api/healthz");
  await api.get("/api/healthz/");
  await api.get("/swagger-ui/index.html");
  expect((await api.get("/api/users/me").set("Authorization", "Bearer not-a-token")).status).toBe(401);
  expect((await api.post("/api/images").set("Authorization", "Bearer not-a-token")).status).toBe(401);
  expect((await api.post("/ready")).status).toBe(405);
  const after = await scrape();
  for (const [method, route, status, count] of expected) {
    const line = counted(method, route.replaceAll("/", "\\/"), status);
    expect([method, route, status, value(after, line) - value(before, line)]).toEqual([method, route, status, count]);
  }
  expect(after).not.toMatch(/route="\/api\/api|route="[^"]*,/);
});

test("/metrics is open when METRICS_TOKEN is unset", async () => {
  const response = await request(app.url).get("/metrics");
  expect(response.status).toBe(200);
});

describe("with METRICS_TOKEN and the persisted-operations allow-list", () => {
  const TOKEN = "metrics-token-for-the-scraper-0123";
  const dir = mkdtempSync(join(tmpdir(), "tessera-metrics-persisted-"));
  const HASH = "5b2e8c1d0f3a4b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c";
  writeFileSync(join(dir, `${HASH}.graphql`), "query ListModules { modules { nodes { name } } }");
  let guarded: TestApp;
  beforeAll(async () => {
    guarded = await startTestApp({ env: { METRICS_TOKEN: TOKEN, GRAPHQL_PERSISTED_OPERATIONS_DIR: dir } });
  });
  afterAll(async () => {
    await guarded.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("/metrics answers 401 UNAUTHENTICATED without the token or with a wrong one, 200 with it", async () => {
    const missing = await request(guarded.url).get("/metrics");
    expect([missing.status, missing.body?.error?.code]).toEqual([401, "UNAUTHENTICATED"]);
    expect(missing.text).not.toMatch(/tessera_/);
    const wrong = await request(guarded.url).get("/metrics").set("Authorization", `Bearer ${TOKEN}x`);
    expect([wrong.status, wrong.body?.error?.code]).toEqual([401, "UNAUTHENTICATED"]);
    const right = await request(guarded.url).get("/metrics").set("Authorization", `Bearer ${TOKEN}`);
    expect(right.status).toBe(200);
    expect(right.text).toMatch(/tessera_http_requests_total/);
  });

  test("allow-listed persisted operations keep their name", async () => {
    const response = await fetch(`${guarded.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: HASH }),
    });
    expect(((await response.json()) as { errors?: unknown }).errors).toBeUndefined();
    const text = (await request(guarded.url).get("/metrics").set("Authorization", `Bearer ${TOKEN}`)).text;
    expect(text).toMatch(
      /tessera_graphql_operations_total\{operation="ListModules",type="query",outcome="success"\} 1/,
    );
  });
});
