/**
 * The response check of the tests (test/helpers/openapiCheck.ts) catches what does not conform:
 * an undocumented status, an undocumented media type, a body off its schema, an extra field; and
 * lets through what the document says, errors included. Then the real server's answers, checked.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { z } from "zod";
import { AppError } from "../../src/platform/errors.ts";
import { errorHandler, notFound } from "../../src/platform/http/errorHandler.ts";
import { buildOpenApiDocument } from "../../src/platform/http/openapi.ts";
import { apiRouter, defineRoute, implement } from "../../src/platform/http/routeTable.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { type ResponseCheck, watchResponses } from "../helpers/openapiCheck.ts";

const thing = defineRoute({
  method: "get",
  path: "/api/things/{id}",
  summary: "A thing",
  tags: ["test"],
  params: z.object({ id: z.string() }),
  responses: {
    200: { description: "The thing", schema: z.object({ id: z.string(), size: z.int().min(0) }) },
    304: { description: "Not modified" },
  },
  errors: ["NOT_FOUND"],
});
const picture = defineRoute({
  method: "get",
  path: "/api/pictures/{id}",
  summary: "A picture",
  tags: ["test"],
  params: z.object({ id: z.string() }),
  responses: { 200: { description: "Its bytes", media: ["image/png"] } },
});

/** Answers by id: "ok" as documented, the others each break the document in one way. */
const answers: Record<string, (res: express.Response) => void> = {
  ok: (res) => void res.json({ id: "ok", size: 1 }),
  fresh: (res) => void res.status(304).end(),
  extra: (res) => void res.json({ id: "extra", size: 1, secret: "leaked" }),
  shape: (res) => void res.json({ id: "shape", size: -1 }),
  teapot: (res) => void res.status(418).json({ id: "teapot", size: 1 }),
  text: (res) => void res.type("text/plain").send("not json"),
  forbidden: (res) => void res.status(403).json({ error: { code: "FORBIDDEN", message: "no" } }),
  wrongCode: (res) => void res.status(404).json({ error: { code: "CONFLICT", message: "no" } }),
};

let server: Server;
let url: string;
let check: ResponseCheck;
beforeAll(async () => {
  const app = express();
  app.use(
    "/api",
    apiRouter([
      implement(thing, ({ params, res }) => {
        if (params.id === "missing") throw new AppError("NOT_FOUND");
        answers[params.id]?.(res);
      }),
      implement(picture, ({ res }) => void res.type("image/png").send(Buffer.from([0x89, 0x50]))),
    ]),
  );
  app.use(notFound);
  app.use(errorHandler(createLogger("silent")));
  server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  check = watchResponses(server, buildOpenApiDocument([thing, picture], "test"));
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const get = async (path: string) => {
  const response = await fetch(`${url}${path}`);
  await response.arrayBuffer();
  return response.status;
};

test("documented answers pass: bodies, 304, binary, the table's own 400 and 404 envelopes", async () => {
  expect(await get("/api/things/ok")).toBe(200);
  expect(await get("/api/things/fresh")).toBe(304);
  expect(await get("/api/things/missing")).toBe(404);
  expect(await get("/api/things/ok?unknown=1")).toBe(400);
  expect(await get("/api/pictures/1")).toBe(200);
  // Not operations of the document: not checked.
  expect(await get("/api/nowhere")).toBe(404);
  expect(check.violations).toEqual([]);
  expect(check.checked).toBe(5);
  expect(() => check.assertConforms()).not.toThrow();
});

test("each kind of non-conforming answer is a violation, and assertConforms lists them all", async () => {
  for (const id of ["extra", "shape", "teapot", "text", "forbidden", "wrongCode"]) await get(`/api/things/${id}`);
  const lines = [...check.violations];
  expect(lines).toHaveLength(6);
  expect(lines[0]).toMatch(
    /^GET \/api\/things\/extra \(\/api\/things\/\{id\}\): 200 body .*must NOT have additional properties/,
  );
  expect(lines[1]).toMatch(/^GET \/api\/things\/shape .*: 200 body .*size must be >= 0/);
  expect(lines[2]).toBe("GET /api/things/teapot (/api/things/{id}): status 418 is not documented");
  expect(lines[3]).toBe("GET /api/things/text (/api/things/{id}): 200 text/plain is not documented (application/json)");
  expect(lines[4]).toBe("GET /api/things/forbidden (/api/things/{id}): status 403 is not documented");
  expect(lines[5]).toMatch(/^GET \/api\/things\/wrongCode .*: 404 body .*must be equal to one of the allowed values/);
  expect(() => check.assertConforms()).toThrow(/^6 answer\(s\) do not conform to the OpenAPI document:\n- GET/);
  expect(check.violations).toEqual([]);
});

describe("the real server's answers", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  test("are checked: root, health, readiness, metrics, 401s and a 400", async () => {
    for (const path of ["/", "/health", "/ready", "/metrics", "/api/users/me", "/api/users/not-a-uuid?x=1"])
      await (await fetch(`${app.url}${path}`)).arrayBuffer();
    await (await fetch(`${app.url}/api/users/me`, { headers: { authorization: "Bearer nonsense" } })).arrayBuffer();
    expect(app.openapi!.violations).toEqual([]);
    expect(app.openapi!.checked).toBe(7);
  });
});
