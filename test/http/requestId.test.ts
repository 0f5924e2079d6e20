/** One request id on the response header, the request's log line and the database-side record. */
import request from "supertest";
import { createEvent } from "../events/helpers.ts";
import { queuedJobs } from "../helpers/jobs.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestUser } from "../helpers/fixtures.ts";

const logLines: string[] = [];
let app: TestApp;
let user: TestUser;
beforeAll(async () => {
  app = await startTestApp({ logLines });
  user = await createUser(app.db.ownerPool, await createTenant(app.db.ownerPool, "traced"), "member", {
    password: "the right passphrase",
  });
});
afterAll(() => app.stop());

test("a failing login: X-Request-Id, the log line and the auth_events row share the id", async () => {
  const response = await request(app.url)
    .post("/api/auth/login")
    .set("X-Request-Id", "trace-me-42")
    .send({ tenant: "traced", login: user.email, password: "the wrong passphrase" });
  expect(response.status).toBe(401);
  expect(response.headers["x-request-id"]).toBe("trace-me-42");

  const line = logLines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.requestId === "trace-me-42" && l.msg === "request refused");
  expect(line).toMatchObject({ method: "POST", path: "/api/auth/login", status: 401 });

  const { rows } = await app.db.ownerPool.query(
    "select type, user_id from app_private.auth_events where request_id = 'trace-me-42'",
  );
  expect(rows).toEqual([{ type: "login_failed", user_id: user.id }]);
});

test("a request refused before its route's handler is logged under the route's template", async () => {
  // Fails on the code that logged the raw path of a bot route refused by its key check.
  const id = crypto.randomUUID();
  const response = await request(app.url)
    .get(`/api/bot/orders/${id}`)
    .set("X-Request-Id", "refused-bot-1")
    .set("X-API-KEY", "not a key")
    .set("X-BOT-ID", crypto.randomUUID());
  expect(response.status).toBeGreaterThanOrEqual(400);
  const line = logLines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.requestId === "refused-bot-1");
  expect(line).toMatchObject({ method: "GET", path: "/api/bot/orders/:id", status: response.status });
});

test("a generated id is the same on the header, the log line and the record", async () => {
  const response = await request(app.url)
    .post("/api/auth/login")
    .send({ tenant: "traced", login: user.username, password: "the right passphrase" });
  const id = response.headers["x-request-id"] as string;
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  expect(logLines.some((l) => l.includes(`"requestId":"${id}"`) && l.includes('"status":200'))).toBe(true);
  const { rows } = await app.db.ownerPool.query("select type from app_private.auth_events where request_id = $1", [id]);
  expect(rows).toEqual([{ type: "login_succeeded" }]);
});

test("jobs enqueued by a request carry its request id", async () => {
  const manager = await createUser(app.db.ownerPool, { id: user.tenantId, slug: "traced" }, "manager");
  const eventId = await createEvent(app, manager.token, { name: "Traced event" });
  const response = await request(app.url)
    .post("/graphql")
    .set("Authorization", `Bearer ${manager.token}`)
    .set("X-Request-Id", "cancel-request-7")
    .send({
      query: `mutation ($id: UUID!) { rejectEvent(input: { eventId: $id }) { event { rejectedAt } } }`,
      variables: { id: eventId },
    });
  expect(response.status).toBe(200);
  const jobs = await queuedJobs(app.db.ownerPool, "event_cancelled");
  expect(jobs.map((job) => job.payload)).toEqual([{ eventId, requestId: "cancel-request-7", tenantId: user.tenantId }]);
});
