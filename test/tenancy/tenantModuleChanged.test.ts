import type { Client } from "graphql-ws";
import { listening, startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestUser } from "../helpers/fixtures.ts";

let app: TestApp;
let adminA: TestUser;
let memberA: TestUser;
let adminB: TestUser;

beforeAll(async () => {
  app = await startTestApp();
  const tenantA = await createTenant(app.db.ownerPool, "tenant-a");
  const tenantB = await createTenant(app.db.ownerPool, "tenant-b");
  adminA = await createUser(app.db.ownerPool, tenantA, "admin");
  memberA = await createUser(app.db.ownerPool, tenantA, "member");
  adminB = await createUser(app.db.ownerPool, tenantB, "owner");
});
afterAll(() => app.stop());

const SET_MODULE = `mutation ($module: String!, $enabled: Boolean!) {
  setTenantModule(input: { module: $module, enabled: $enabled }) { tenantModule { module enabled } }
}`;
const SUBSCRIPTION = "subscription { tenantModuleChanged { event tenantModule { module enabled } } }";

/** Collects every event a client receives; `next(n)` waits for the n-th. */
function collect(client: Client) {
  const received: unknown[] = [];
  const errors: unknown[] = [];
  const waiters: Array<() => void> = [];
  client.subscribe(
    { query: SUBSCRIPTION },
    {
      next: (value) => {
        received.push(value);
        waiters.splice(0).forEach((wake) => wake());
      },
      error: (error) => errors.push(error),
      complete: () => {},
    },
  );
  return {
    received,
    errors,
    next: (count: number) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for event ${count}`)), 20_000);
        const check = () => {
          if (received.length < count) return void waiters.push(check);
          clearTimeout(timer);
          resolve();
        };
        check();
      }),
  };
}

test("a tenant's subscriber receives its own module change; another tenant's receives nothing", async () => {
  // One subscription at a time, each until its LISTEN is in place (see listening()).
  const a = collect(app.wsClient(adminA.token));
  await listening(app, `tenant:${adminA.tenantId}:modules`);
  const b = collect(app.wsClient(adminB.token));
  await listening(app, `tenant:${adminB.tenantId}:modules`);

  const { body } = await app.graphql(SET_MODULE, { module: "events", enabled: false }, adminA.token);
  expect(body).toEqual({ data: { setTenantModule: { tenantModule: { module: "events", enabled: false } } } });

  await a.next(1);
  expect(a.received).toEqual([
    { data: { tenantModuleChanged: { event: "update", tenantModule: { module: "events", enabled: false } } } },
  ]);

  // B's socket is live (it receives B's own change next), and it did not get A's change before it.
  await app.graphql(SET_MODULE, { module: "media", enabled: false }, adminB.token);
  await b.next(1);
  expect(b.received).toEqual([
    { data: { tenantModuleChanged: { event: "update", tenantModule: { module: "media", enabled: false } } } },
  ]);
  expect(a.received).toHaveLength(1);
  expect([...a.errors, ...b.errors]).toEqual([]);
});

test("rows inserted for many tenants in one statement reach each tenant's subscriber, its own only", async () => {
  // Tenants of their own: their topics are not listened to yet (see listening()).
  const adminC = await createUser(app.db.ownerPool, await createTenant(app.db.ownerPool, "tenant-c"), "admin");
  const ownerD = await createUser(app.db.ownerPool, await createTenant(app.db.ownerPool, "tenant-d"), "owner");
  const c = collect(app.wsClient(adminC.token));
  await listening(app, `tenant:${adminC.tenantId}:modules`);
  const d = collect(app.wsClient(ownerD.token));
  await listening(app, `tenant:${ownerD.tenantId}:modules`);
  // A module added to the catalogue is switched on for every tenant by one insert of their rows.
  await app.db.ownerPool.query("insert into app_public.modules (name, description) values ('things', 'Things.')");
  await Promise.all([c.next(1), d.next(1)]);
  const inserted = {
    data: { tenantModuleChanged: { event: "insert", tenantModule: { module: "things", enabled: true } } },
  };
  // One more change of C's own: D's feed holds only the insert of its own row.
  await app.graphql(SET_MODULE, { module: "things", enabled: false }, adminC.token);
  await c.next(2);
  expect(c.received).toEqual([
    inserted,
    { data: { tenantModuleChanged: { event: "update", tenantModule: { module: "things", enabled: false } } } },
  ]);
  expect(d.received).toEqual([inserted]);
  expect([...c.errors, ...d.errors]).toEqual([]);
});

test("a member may not switch modules: FORBIDDEN, and nothing changes", async () => {
  const { body } = await app.graphql(SET_MODULE, { module: "operations", enabled: false }, memberA.token);
  expect(body.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  const { rows } = await app.db.ownerPool.query(
    "select enabled from app_public.tenant_modules where tenant_id = $1 and module = 'operations'",
    [memberA.tenantId],
  );
  expect(rows).toEqual([{ enabled: true }]);
});

test("an unknown module is NOT_FOUND, its name echoed cut to 64 characters", async () => {
  const { body } = await app.graphql(SET_MODULE, { module: "nope", enabled: true }, adminA.token);
  expect(body.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  const long = await app.graphql(SET_MODULE, { module: "ü".repeat(45_000), enabled: true }, adminA.token);
  expect(long.body.errors?.[0]).toMatchObject({
    message: `Unknown module ${"ü".repeat(64)}`,
    extensions: { code: "NOT_FOUND" },
  });
});

test("anonymous callers are UNAUTHENTICATED", async () => {
  const { body } = await app.graphql(SET_MODULE, { module: "events", enabled: true });
  expect(body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
});
