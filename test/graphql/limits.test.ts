/** GraphQL hardening: depth, cost and page-size limits before any SQL; introspection off in prod. */
import request from "supertest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestUser } from "../helpers/fixtures.ts";
import { inMinutes } from "../events/helpers.ts";

let app: TestApp;
let manager: TestUser;
beforeAll(async () => {
  app = await startTestApp({ env: { GRAPHQL_MAX_DEPTH: "8", GRAPHQL_MAX_COST: "5000", GRAPHQL_MAX_PAGE_SIZE: "50" } });
  manager = await createUser(app.db.ownerPool, await createTenant(app.db.ownerPool, "hardened"), "manager");
});
afterAll(() => app.stop());

const codeOf = (body: { errors?: Array<{ extensions?: { code?: string; details?: { reason?: string } } }> }) => ({
  code: body.errors?.[0]?.extensions?.code,
  reason: body.errors?.[0]?.extensions?.details?.reason,
});

test("an over-deep mutation is refused with QUERY_TOO_COMPLEX and runs no SQL", async () => {
  const deep = `mutation ($input: CreateEventInput!) { createEvent(input: $input) { event { tenant { users { nodes {
    tenant { users { nodes { tenant { users { nodes { rowId } } } } } } } } } } } }`;
  const { body } = await app.graphql(
    deep,
    { input: { name: "Never created", startsAt: inMinutes(60), endsAt: inMinutes(90) } },
    manager.token,
  );
  expect(codeOf(body)).toEqual({ code: "QUERY_TOO_COMPLEX", reason: "TOO_DEEP" });
  const { rows } = await app.db.ownerPool.query("select 1 from app_public.events where name = 'Never created'");
  expect(rows).toEqual([]);
});

test("an over-costly query is refused; the same shape with small pages passes", async () => {
  const shape = (n: number) =>
    `{ users(first: ${n}) { nodes { tenant { users(first: ${n}) { nodes { tenant { users(first: ${n}) { ` +
    `nodes { rowId } } } } } } } } }`;
  expect(codeOf((await app.graphql(shape(50), undefined, manager.token)).body)).toEqual({
    code: "QUERY_TOO_COMPLEX",
    reason: "TOO_COSTLY",
  });
  const small = await app.graphql(shape(5), undefined, manager.token);
  expect(small.body.errors).toBeUndefined();
  // A page of one (or none) costs one, not a full page. Fails on the code before the fix: first: 1
  // and last: 1 were priced as the maximum page, and these were refused.
  for (const page of ["first: 1", "last: 1", "first: 0"]) {
    const nested =
      `{ users(${page}) { nodes { tenant { users(${page}) { nodes { tenant { users(${page}) { ` +
      `nodes { rowId } } } } } } } } }`;
    expect({ page, errors: (await app.graphql(nested, undefined, manager.token)).body.errors }).toEqual({
      page,
      errors: undefined,
    });
  }
});

test("pages above the maximum are refused, as literals and as variables", async () => {
  expect(
    codeOf((await app.graphql("{ users(first: 51) { nodes { rowId } } }", undefined, manager.token)).body),
  ).toEqual({ code: "QUERY_TOO_COMPLEX", reason: "PAGE_TOO_LARGE" });
  const viaVariable = await app.graphql(
    "query ($n: Int) { users(first: $n) { nodes { rowId } } }",
    { n: 1000 },
    manager.token,
  );
  expect([viaVariable.status, viaVariable.body]).toEqual([400, expect.anything()]);
  expect(codeOf(viaVariable.body)).toEqual({ code: "QUERY_TOO_COMPLEX", reason: "PAGE_TOO_LARGE" });
  const fine = await app.graphql("query ($n: Int) { users(first: $n) { nodes { rowId } } }", { n: 50 }, manager.token);
  expect(fine.body.errors).toBeUndefined();
  // A value no Int can hold is the variable's type error, whatever argument it is given to.
  for (const n of [1e300, 100.5, 2147483648]) {
    const notInt = await app.graphql("query ($n: Int) { users(first: $n) { nodes { rowId } } }", { n }, manager.token);
    expect([n, notInt.body.errors?.[0]?.extensions?.code]).toEqual([n, "VALIDATION_FAILED"]);
    expect(notInt.body.errors?.[0]?.message).toContain("Int cannot represent");
  }
});

test("security headers and CORS are set", async () => {
  const response = await request(app.url).get("/health").set("Origin", "https://app.example.test");
  expect(response.headers).toMatchObject({
    "x-content-type-options": "nosniff",
    "x-frame-options": "SAMEORIGIN",
    "strict-transport-security": expect.stringContaining("max-age="),
    "access-control-allow-origin": "https://app.example.test",
  });
});

describe("with APP_ENV=prod", () => {
  let prod: TestApp;
  beforeAll(async () => {
    prod = await startTestApp({ production: true, env: { CORS_ORIGINS: "https://app.example.test" } });
  });
  afterAll(() => prod.stop());

  test("introspection is refused", async () => {
    const { body } = await prod.graphql("{ __schema { queryType { name } } }");
    expect(body.errors?.[0]?.extensions?.code).toBe("VALIDATION_FAILED");
    expect(body.errors?.[0]?.message).toMatch(/introspection/i);
  });

  test("only the configured origins get CORS headers", async () => {
    const allowed = await request(prod.url).get("/health").set("Origin", "https://app.example.test");
    expect(allowed.headers["access-control-allow-origin"]).toBe("https://app.example.test");
    const other = await request(prod.url).get("/health").set("Origin", "https://evil.example.test");
    expect(other.headers["access-control-allow-origin"]).toBeUndefined();
  });
});
