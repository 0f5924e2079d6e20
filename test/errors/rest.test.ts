/**
 * REST client mistakes keep the status the HTTP layer found (415, 400…) and their code from the
 * one table; none is logged as an unexpected error. REST speaks `id` for primary keys.
 */
import { gzipSync } from "node:zlib";
import request from "supertest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestUser } from "../helpers/fixtures.ts";

let app: TestApp;
let owner: TestUser;
const logLines: string[] = [];

beforeAll(async () => {
  app = await startTestApp({ logLines });
  owner = await createUser(app.db.ownerPool, await createTenant(app.db.ownerPool), "owner");
});
afterAll(() => app.stop());

const errorLevelLines = () => logLines.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
const login = (headers: Record<string, string>, body: string | Buffer) => {
  let req = request(app.url).post("/api/auth/login");
  for (const [name, value] of Object.entries(headers)) req = req.set(name, value);
  return req.send(body);
};

test.each<{ name: string; headers: Record<string, string>; body: string; status: number; code: string }>([
  {
    name: "an unknown charset",
    headers: { "content-type": "application/json; charset=foo" },
    body: '{"tenant":"x","login":"y","password":"z"}',
    status: 415,
    code: "UNSUPPORTED_MEDIA_TYPE",
  },
  {
    name: "an unknown Content-Encoding",
    headers: { "content-type": "application/json", "content-encoding": "x-foo" },
    body: '{"tenant":"x"}',
    status: 415,
    code: "UNSUPPORTED_MEDIA_TYPE",
  },
  {
    name: "gzip that is not gzip",
    headers: { "content-type": "application/json", "content-encoding": "gzip" },
    body: "certainly not gzip",
    status: 400,
    code: "VALIDATION_FAILED",
  },
  {
    name: "truncated JSON",
    headers: { "content-type": "application/json" },
    body: '{"tenant":"x","login":',
    status: 400,
    code: "VALIDATION_FAILED",
  },
])("a login with $name is $status $code", async ({ headers, body, status, code }) => {
  const response = await login(headers, body);
  expect(response.status).toBe(status);
  expect(response.body.error.code).toBe(code);
  expect(errorLevelLines()).toEqual([]);
});

test.each(["gzip", "deflate", "br", "zstd"])(
  "a body that is not %s says it could not be decompressed",
  async (coding) => {
    const response = await login({ "content-type": "application/json", "content-encoding": coding }, "not compressed");
    expect([response.status, response.body.error]).toEqual([
      400,
      {
        code: "VALIDATION_FAILED",
        message: "The request body could not be decompressed: its bytes are not what its Content-Encoding says.",
      },
    ]);
    expect(errorLevelLines()).toEqual([]);
  },
);

test("a real gzip body is accepted (the failure above is about the bytes, not the header)", async () => {
  const response = await fetch(`${app.url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", "content-encoding": "gzip" },
    body: gzipSync('{"tenant":"nope","login":"x","password":"y"}'),
  });
  expect(((await response.json()) as { error: { code: string } }).error.code).toBe("INVALID_CREDENTIALS");
});

test.each(["/api/users/%ZZ", "/api/users/%", "/api/images/%E0%A4%A", "/api/images/%"])(
  "GET %s is 400 VALIDATION_FAILED, not 500",
  async (path) => {
    const response = await request(app.url).get(path).set("authorization", `Bearer ${owner.token}`);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("VALIDATION_FAILED");
    expect(errorLevelLines()).toEqual([]);
  },
);

test("REST names primary keys `id`: the current user and the current tenant alike", async () => {
  const me = await request(app.url).get("/api/users/me").set("authorization", `Bearer ${owner.token}`);
  expect(me.body).toMatchObject({ id: owner.id, email: owner.email });
  expect(me.body).not.toHaveProperty("rowId");
  const tenant = await request(app.url).get("/api/tenants/current").set("authorization", `Bearer ${owner.token}`);
  expect(tenant.body).toMatchObject({ id: owner.tenantId });
  expect(tenant.body).not.toHaveProperty("rowId");
});

test("a server fault is 500 INTERNAL, logged once at error level with its request id", async () => {
  // Fails on the code that logged it twice: the cause ("unexpected error") and the request line.
  const broken = "app_private.login_candidate(uuid, citext)";
  const { rows } = await app.db.rootPool.query<{ definition: string }>(
    "select pg_get_functiondef($1::regprocedure) as definition",
    [broken],
  );
  await app.db.rootPool.query(
    `create or replace function app_private.login_candidate(tenant_id uuid, identifier citext,
       out user_id uuid, out password_hash text, out totp_enabled boolean)
     language plpgsql as $$ begin raise exception 'broken on purpose'; end $$`,
  );
  try {
    const requestId = `fault-${crypto.randomUUID()}`;
    const { rows: tenants } = await app.db.ownerPool.query<{ slug: string }>(
      "select slug from app_public.tenants where id = $1",
      [owner.tenantId],
    );
    const response = await login(
      { "content-type": "application/json", "x-request-id": requestId },
      JSON.stringify({ tenant: tenants[0]!.slug, login: owner.email, password: "a password of some length" }),
    );
    expect([response.status, response.body.error.code]).toEqual([500, "INTERNAL"]);
    const lines = errorLevelLines().map((line) => JSON.parse(line) as { requestId?: string; msg: string });
    expect(lines.filter((line) => line.requestId === requestId).map((line) => line.msg)).toEqual(["unexpected error"]);
  } finally {
    await app.db.rootPool.query(rows[0]!.definition);
  }
});
