import request from "supertest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, mintToken, type TestUser } from "../helpers/fixtures.ts";

let app: TestApp;
let user: TestUser;
/** The server's log, shown beside an unexpected status so that its cause can be read. */
const appLog: string[] = [];
beforeAll(async () => {
  app = await startTestApp({ logLines: appLog });
  const tenant = await createTenant(app.db.ownerPool, "rest-co");
  user = await createUser(app.db.ownerPool, tenant, "member");
  await app.db.ownerPool.query(
    "update app_public.tenant_modules set enabled = false where tenant_id = $1 and module = 'media'",
    [tenant.id],
  );
});
afterAll(() => app.stop());

test("GET /api/tenants/current answers the signed-in user's tenant and its modules", async () => {
  const response = await request(app.url).get("/api/tenants/current").set("Authorization", `Bearer ${user.token}`);
  expect({ status: response.status, log: response.status === 200 ? [] : appLog }).toEqual({ status: 200, log: [] });
  expect(response.body).toEqual({
    id: user.tenantId,
    slug: "rest-co",
    name: "rest-co",
    status: "active",
    modules: expect.arrayContaining([
      { module: "events", enabled: true },
      { module: "media", enabled: false },
    ]),
  });
});

test("without a token it is 401 UNAUTHENTICATED in the REST envelope", async () => {
  const response = await request(app.url).get("/api/tenants/current");
  expect(response.status).toBe(401);
  expect(response.body).toEqual({ error: { code: "UNAUTHENTICATED", message: expect.any(String) } });
});

test("an expired token is 401 UNAUTHENTICATED", async () => {
  const expired = mintToken({ sub: user.id, tid: user.tenantId, role: "member" }, { ttlSeconds: -5 });
  const response = await request(app.url).get("/api/tenants/current").set("Authorization", `Bearer ${expired}`);
  expect(response.status).toBe(401);
  expect(response.body.error.code).toBe("UNAUTHENTICATED");
});

test("a well-signed token whose session does not exist is 401 UNAUTHENTICATED", async () => {
  const orphan = mintToken({ sub: user.id, tid: user.tenantId, role: "member" });
  const response = await request(app.url).get("/api/tenants/current").set("Authorization", `Bearer ${orphan}`);
  expect(response.status).toBe(401);
  expect(response.body.error.code).toBe("UNAUTHENTICATED");
});

test("GET /api/tenants/current lists every module however small GRAPHQL_MAX_PAGE_SIZE is", async () => {
  // Fails on the code before the fix: the list stopped at one page, without a word.
  const small = await startTestApp({ env: { GRAPHQL_MAX_PAGE_SIZE: "2" } });
  try {
    const tenant = await createTenant(small.db.ownerPool, "paged-co");
    const member = await createUser(small.db.ownerPool, tenant, "member");
    const { rows } = await small.db.ownerPool.query<{ module: string }>(
      "select module from app_public.tenant_modules where tenant_id = $1 order by module",
      [tenant.id],
    );
    expect(rows.length).toBeGreaterThan(4);
    const response = await request(small.url)
      .get("/api/tenants/current")
      .set("Authorization", `Bearer ${member.token}`);
    expect(response.status).toBe(200);
    expect(response.body.modules.map((entry: { module: string }) => entry.module)).toEqual(
      rows.map((row) => row.module),
    );
  } finally {
    await small.stop();
  }
});
