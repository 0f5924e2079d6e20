import request from "supertest";
import { startTestApp, type TestApp } from "../helpers/app.ts";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

describe("liveness and readiness", () => {
  test.each(["/health", "/healthz", "/api/healthz"])("%s answers 200 ok", async (path) => {
    const response = await request(app.url).get(path);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: "ok" });
  });

  test("GET / names the app, environment and version", async () => {
    const response = await request(app.url).get("/");
    expect(response.body).toEqual({ app: "tessera", env: "test", version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });

  test("/ready is 200 on a migrated database", async () => {
    const response = await request(app.url).get("/ready");
    expect(response.status).toBe(200);
  });
});

describe("/ready before migrations are current", () => {
  let stale: TestApp;
  beforeAll(async () => {
    stale = await startTestApp();
    // As if this code carried a migration the database has not applied yet.
    await stale.db.ownerPool.query("delete from graphile_migrate.migrations");
  });
  afterAll(() => stale.stop());

  test("answers 503 with the reason", async () => {
    const response = await request(stale.url).get("/ready");
    expect(response.status).toBe(503);
    expect(response.body).toEqual({ status: "unavailable", reason: "migrations pending" });
  });
});

describe("request ids", () => {
  test("a sane X-Request-Id is echoed", async () => {
    const response = await request(app.url).get("/health").set("X-Request-Id", "abc-123");
    expect(response.headers["x-request-id"]).toBe("abc-123");
  });

  test("a missing or unsafe id is replaced by a generated one", async () => {
    const missing = await request(app.url).get("/health");
    expect(missing.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    const unsafe = await request(app.url).get("/health").set("X-Request-Id", "<script>");
    expect(unsafe.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("the REST error envelope", () => {
  test("an unknown route is NOT_FOUND", async () => {
    const response = await request(app.url).get("/api/nothing-here");
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error: { code: "NOT_FOUND", message: expect.any(String) } });
  });

  test("a malformed JSON body is VALIDATION_FAILED, not a 500", async () => {
    const response = await request(app.url)
      .post("/api/tenants/current")
      .set("content-type", "application/json")
      .send("{not json");
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("VALIDATION_FAILED");
  });

  test("a body over the limit is PAYLOAD_TOO_LARGE", async () => {
    const response = await request(app.url)
      .post("/api/tenants/current")
      .set("content-type", "application/json")
      .send(JSON.stringify({ big: "x".repeat(200_000) }));
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe("PAYLOAD_TOO_LARGE");
  });
});
