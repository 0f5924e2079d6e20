import request from "supertest";
import { DEMO_PASSWORD } from "../../src/modules/identity/accounts.ts";
import { MODULES } from "../../src/modules/index.ts";
import { seedDemo } from "../../src/platform/db/seed.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

test("the demo seed is idempotent, refused in production, and its users can sign in with their roles", async () => {
  const client = await app.db.ownerPool.connect();
  try {
    const first = await seedDemo(MODULES, client, false);
    const second = await seedDemo(MODULES, client, false);
    expect(second).toEqual(first);
    await expect(seedDemo(MODULES, client, true)).rejects.toThrow(/APP_ENV is stage or prod/);
  } finally {
    client.release();
  }
  const { rows } = await app.db.ownerPool.query(
    "select count(*)::int as n from app_public.users u join app_public.tenants t on t.id = u.tenant_id " +
      "where t.slug = 'demo' and not u.is_system",
  );
  expect(rows[0].n).toBe(2);

  const owner = await request(app.url)
    .post("/api/auth/login")
    .send({ tenant: "demo", login: "owner@demo.test", password: DEMO_PASSWORD });
  expect(owner.status).toBe(200);
  const switched = await app.graphql(
    `mutation { setTenantModule(input: { module: "media", enabled: false }) { tenantModule { enabled } } }`,
    undefined,
    owner.body.accessToken,
  );
  expect(switched.body).toEqual({ data: { setTenantModule: { tenantModule: { enabled: false } } } });

  const events = await app.graphql(
    "{ searchEvents(upcoming: true, orderBy: STARTS_AT_ASC) { nodes { name participantsCount " +
      "maxParticipantsCount } } }",
    undefined,
    owner.body.accessToken,
  );
  expect(events.body.data).toEqual({
    searchEvents: {
      nodes: [
        { name: "Welcome meetup", participantsCount: 1, maxParticipantsCount: 30 },
        { name: "Small workshop", participantsCount: 2, maxParticipantsCount: 2 },
        { name: "Annual conference", participantsCount: 0, maxParticipantsCount: null },
      ],
    },
  });

  const member = await request(app.url)
    .post("/api/auth/login")
    .send({ tenant: "demo", login: "member", password: DEMO_PASSWORD });
  const refused = await app.graphql(
    `mutation { setTenantModule(input: { module: "media", enabled: true }) { tenantModule { enabled } } }`,
    undefined,
    member.body.accessToken,
  );
  expect(refused.body.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
});
