/**
 * The OpenAPI document: a valid OpenAPI 3.1 document (a standard validator), built the same every
 * time, committed up to date, describing every route of the table with its security and errors;
 * and the server: /openapi.json serves it, and a table whose specs and handlers differ never starts.
 */
import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import { z } from "zod";
import { loadConfig, MODULES } from "../../src/modules/index.ts";
import { buildOpenApiDocument, OPENAPI_PATH, openApiText } from "../../src/platform/http/openapi.ts";
import { apiSpecs } from "../../src/platform/http/platformApi.ts";
import { defineRoute } from "../../src/platform/http/routeSpec.ts";
import { encodeCursor, listQuery } from "../../src/platform/http/listQuery.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { createTesseraServer } from "../../src/platform/server.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTestDatabase } from "../helpers/database.ts";
import { TEST_JWT_SECRET } from "../helpers/fixtures.ts";
import { until } from "../helpers/wait.ts";

const text = openApiText(MODULES);
const document = JSON.parse(text) as {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, unknown>;
    securitySchemes: Record<string, unknown>;
    parameters: Record<string, { schema: { maxLength?: number } }>;
  };
};
interface Operation {
  operationId: string;
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ $ref?: string; name?: string; in?: string }>;
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}
const operations = Object.entries(document.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, operation]) => ({ path, method, operation })),
);

test("the document is valid OpenAPI 3.1 (and the validator does refuse a broken one)", async () => {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(document));
  expect(result.errors).toBeUndefined();
  expect(result.valid).toBe(true);
  expect(validator.version).toBe("3.1");
  const broken = structuredClone(document) as Record<string, unknown>;
  delete broken.info;
  expect((await new Validator().validate(broken)).valid).toBe(false);
  const dangling = JSON.parse(text.replace('"#/components/schemas/User"', '"#/components/schemas/Nobody"'));
  expect((await new Validator().validate(dangling)).valid).toBe(false);
});

test("openapi.json is the committed copy of what the specs give now (npm run openapi), built alike each time", () => {
  expect(openApiText(MODULES)).toBe(text);
  const committed = readFileSync(OPENAPI_PATH, "utf8");
  if (committed !== text) process.stdout.write("openapi.json is stale: run `npm run openapi` and commit the result\n");
  expect(committed).toBe(text);
});

test("every route of the table is documented once, the whole REST surface", () => {
  const specs = apiSpecs(MODULES);
  expect(operations).toHaveLength(specs.length);
  const paths = Object.keys(document.paths);
  for (const path of ["/", "/health", "/healthz", "/api/healthz", "/ready", "/metrics", "/openapi.json"])
    expect(paths).toContain(path);
  for (const path of ["/api/auth/login", "/api/auth/refresh", "/api/users/me", "/api/users/{id}"])
    expect(paths).toContain(path);
  for (const path of ["/api/tenants/current", "/api/images", "/api/images/{id}"]) expect(paths).toContain(path);
  expect(paths.filter((path) => path.startsWith("/api/bot/")).length).toBeGreaterThan(0);
  expect(new Set(operations.map(({ operation }) => operation.operationId)).size).toBe(operations.length);
  expect(Object.keys(document.paths["/api/images"]!.post as object)).toContain("requestBody");
  expect(document.paths["/api/images/{id}"]!.get!.responses["200"]!.content).toHaveProperty(["image/png"]);
  expect(document.paths["/metrics"]!.get!.responses["200"]!.content).toHaveProperty(["text/plain"]);
});

test("security: bearer JWT, and bot routes need both X-API-KEY and X-BOT-ID", () => {
  expect(document.components.securitySchemes).toMatchObject({
    bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
    apiKey: { type: "apiKey", in: "header", name: "X-API-KEY" },
    botId: { type: "apiKey", in: "header", name: "X-BOT-ID" },
  });
  for (const { path, operation } of operations.filter(({ path }) => path.startsWith("/api/bot/")))
    expect([path, operation.security]).toEqual([path, [{ apiKey: [], botId: [] }]]);
  expect(document.paths["/api/users/me"]!.get!.security).toEqual([{ bearerAuth: [] }]);
});

test("every error status of every operation is the error envelope, with the codes it may carry", () => {
  const envelope = { $ref: "#/components/schemas/ErrorEnvelope" };
  for (const { path, method, operation } of operations) {
    expect([path, method, Object.keys(operation.responses)]).toEqual([
      path,
      method,
      expect.arrayContaining(["400", "500"]),
    ]);
    for (const [status, response] of Object.entries(operation.responses)) {
      if (Number(status) < 400 || (path === "/ready" && status === "503")) continue;
      const schema = response.content?.["application/json"]?.schema as { allOf: unknown[] };
      expect([path, status, schema.allOf[0]]).toEqual([path, status, envelope]);
    }
  }
  const codes = (
    document.components.schemas.ErrorEnvelope as { properties: { error: { properties: { code: { enum: string[] } } } } }
  ).properties.error.properties.code.enum;
  expect(codes).toEqual(expect.arrayContaining(["VALIDATION_FAILED", "UNAUTHENTICATED", "NOT_FOUND", "RATE_LIMITED"]));
});

test("list routes share one description of limit and cursor", () => {
  const lists = operations.filter(({ operation }) =>
    operation.parameters?.some((parameter) => parameter.$ref === "#/components/parameters/ListCursor"),
  );
  expect(lists.length).toBeGreaterThan(0);
  for (const { operation } of lists) {
    expect(operation.parameters).toContainEqual({ $ref: "#/components/parameters/ListLimit" });
    expect(operation.responses["200"]!.content!["application/json"]!.schema).toMatchObject({
      properties: { items: { type: "array" }, nextCursor: { type: ["string", "null"] } },
    });
  }
  // The longest cursor a list gives, a product's 200-character name of 4-byte characters, is one a
  // client checking the document sends back (it allowed 1,024 characters, the server gives 1,170).
  const longest = encodeCursor({
    s: "products:name:desc",
    v: "\u{1F600}".repeat(200),
    id: "6f9619ff-8b86-4011-b42d-00c04fc964ff",
  });
  expect(longest.length).toBeLessThanOrEqual(document.components.parameters.ListCursor!.schema.maxLength!);
});

test("a spec the document cannot hold is refused when the document is built", () => {
  const twice = defineRoute({
    method: "get",
    path: "/api/twice",
    operationId: "getRoot",
    summary: "x",
    tags: [],
    responses: { 200: { description: "x" } },
  });
  expect(() => buildOpenApiDocument([...apiSpecs(MODULES), twice], "test")).toThrow("operationId getRoot is taken");
  const named = (shape: z.ZodRawShape) => z.object(shape).meta({ id: "Twin" });
  const clash = [1, 2].map((n) =>
    defineRoute({
      method: "get",
      path: `/api/clash${n}`,
      summary: "x",
      tags: [],
      responses: { 200: { description: "x", schema: named(n === 1 ? { a: z.string() } : { b: z.string() }) } },
    }),
  );
  expect(() => buildOpenApiDocument(clash, "test")).toThrow("two different schemas are named Twin");
  const unknownCode = defineRoute({
    method: "get",
    path: "/api/x",
    summary: "x",
    tags: [],
    responses: { 200: { description: "x" } },
    errors: ["NO_SUCH_CODE" as "NOT_FOUND"],
  });
  expect(() => buildOpenApiDocument([unknownCode], "test")).toThrow("unknown error code NO_SUCH_CODE");
});

describe("the server", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  test("GET /openapi.json answers the document (its own answer conforms to it)", async () => {
    const response = await fetch(`${app.url}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await response.json()).toEqual(document);
    expect((await fetch(`${app.url}/openapi.json?x=1`)).status).toBe(400);
    expect(app.openapi!.checked).toBe(2);
  });
});

test("a server whose table has a spec without handler refuses to start, and releases what it opened", async () => {
  const db = await createTestDatabase();
  try {
    const orphan = defineRoute({
      method: "get",
      path: "/api/orphans",
      summary: "Declared, never implemented",
      tags: ["test"],
      responses: { 200: { description: "x" } },
    });
    const config = { ...loadConfig({ APP_ENV: "test", JWT_SECRET: TEST_JWT_SECRET }), database: db.urls };
    const start = createTesseraServer({
      modules: [...MODULES, { name: "orphans", api: [orphan] }],
      config,
      database: db.urls,
      logger: createLogger("silent"),
    });
    await expect(start).rejects.toThrow(
      "The REST route table does not match its handlers:\n- GET /api/orphans is declared but not implemented",
    );
    // Nothing of the refused start stays connected (its pools and LISTEN connection are closed).
    await until(async () => {
      const { rows } = await db.rootPool.query(
        `select count(*)::int as n from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid()`,
      );
      return rows[0].n === 0;
    }, "the refused server's connections to close");
  } finally {
    await db.drop();
  }
});

test("a list with a lower cap documents its own limit; sort and filter are per route", () => {
  const small = defineRoute({
    method: "get",
    path: "/api/small",
    summary: "x",
    tags: [],
    query: listQuery({
      sort: ["name"],
      defaultSort: "-name",
      maxLimit: 10,
      filter: z.object({ kind: z.enum(["a", "b"]).optional() }),
    }),
    responses: { 200: { description: "x" } },
  });
  const built = buildOpenApiDocument([small], "test") as unknown as typeof document;
  expect(built.paths["/api/small"]!.get!.parameters).toEqual([
    expect.objectContaining({ name: "limit", schema: expect.objectContaining({ maximum: 10, default: 10 }) }),
    { $ref: "#/components/parameters/ListCursor" },
    expect.objectContaining({
      name: "sort",
      schema: { type: "string", pattern: "^-?(name)$", default: "-name" },
    }),
    expect.objectContaining({ name: "filter", style: "deepObject", explode: true }),
  ]);
});
