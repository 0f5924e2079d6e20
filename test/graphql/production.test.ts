import request from "supertest";
import { startTestApp, type TestApp } from "../helpers/app.ts";

/**
 * Misspelt names graphql-js would answer with "Did you mean …?"
 * (a field, an enum value, an input field, a variable's enum value).
 */
const MISSPELT: Array<[string, string, Record<string, unknown> | undefined]> = [
  ["field", "{ modulez { nodes { name } } }", undefined],
  ["enum literal", "{ modules(orderBy: NAME_AS) { nodes { name } } }", undefined],
  [
    "input field",
    `mutation { login(input: { tenant: "demo", logn: "someone", password: "whatever-it-is" }) { accessToken } }`,
    undefined,
  ],
  ["enum variable", "query ($o: [ModuleOrderBy!]) { modules(orderBy: $o) { nodes { name } } }", { o: ["NAME_AS"] }],
];

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

  test("errors suggest the names the client may have meant", async () => {
    const { body } = await app.graphql("{ modulez { nodes { name } } }");
    expect(body.errors?.[0]?.message).toMatch(/Did you mean .*"modules"/);
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

  test.each(MISSPELT)(
    "a misspelt %s is refused without suggesting schema names (HTTP and WebSocket)",
    async (_what, query, variables) => {
      const { body } = await app.graphql(query, variables);
      expect(body.errors?.[0]?.extensions?.code).toBe("VALIDATION_FAILED");
      expect(JSON.stringify(body)).not.toMatch(/Did you mean|NAME_ASC|"login"|"modules"/);
      const outcome = await new Promise<unknown>((resolve) => {
        app
          .wsClient()
          .subscribe({ query, variables }, { next: resolve, error: resolve, complete: () => resolve("complete") });
      });
      expect(JSON.stringify(outcome)).toMatch(/VALIDATION_FAILED/);
      expect(JSON.stringify(outcome)).not.toMatch(/Did you mean|NAME_ASC|"login"|"modules"/);
    },
  );

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
