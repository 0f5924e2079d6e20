import request from "supertest";
import { startTestApp, type TestApp } from "../helpers/app.ts";

describe("outside production", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  test("/graphiql serves Ruru", async () => {
    const response = await request(app.url).get("/graphiql").set("Accept", "text/html");
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toMatch(/text\/html/);
    expect(response.text).toMatch(/ruru/i);
  });
});

describe("with APP_ENV=prod", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ production: true });
  });
  afterAll(() => app.stop());

  test("/graphiql is not served", async () => {
    const response = await request(app.url).get("/graphiql").set("Accept", "text/html");
    expect(response.status).toBe(404);
    expect(response.text).not.toMatch(/ruru/i);
  });

  test("an unexpected database error reaches the client as INTERNAL without SQL", async () => {
    // Build the schema first, then break the table under it, as a bad deploy might.
    const { body } = await app.graphql("{ modules { nodes { name } } }");
    expect(body.errors).toBeUndefined();
    await app.db.rootPool.query("alter table app_public.tenants rename column name to name_gone");
    const broken = await app.graphql(`{ tenants { nodes { name } } }`);
    const text = JSON.stringify(broken.body);
    expect(broken.body.errors?.[0]?.extensions?.code).toBe("INTERNAL");
    expect(text).not.toMatch(/name_gone|does not exist|select |app_public/i);
  });
});
