/**
 * The route table over real HTTP (an Express app of its own, no database): security first, then
 * params, query and body validated, 400 VALIDATION_FAILED naming the fields, typed answers; and
 * the start-up check that every spec has exactly one implementation.
 */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import express, { type NextFunction, type Request, type Response } from "express";
import { z } from "zod";
import type { AuthenticatedRequest } from "../../src/platform/graphql/context.ts";
import { errorHandler, notFound } from "../../src/platform/http/errorHandler.ts";
import {
  apiRouter,
  checkImplementations,
  defineRoute,
  encodeCursor,
  implement,
  implementationsOf,
  listQuery,
  listResponse,
} from "../../src/platform/http/routeTable.ts";
import { createLogger } from "../../src/platform/logger.ts";

const Product = z.object({ id: z.string(), name: z.string(), priceCents: z.int() });

const listProducts = defineRoute({
  method: "get",
  path: "/api/bot/products",
  summary: "Products",
  tags: ["bot"],
  security: "bot",
  query: listQuery({
    sort: ["createdAt", "name"],
    defaultSort: "-createdAt",
    filter: z.object({ status: z.enum(["active", "archived"]).optional() }),
    cursor: z.object({ after: z.string() }),
  }),
  responses: { 200: { description: "A page", schema: listResponse(Product) } },
});

const createProduct = defineRoute({
  method: "post",
  path: "/api/bot/products",
  summary: "Adds a product",
  tags: ["bot"],
  security: "bot",
  body: z.object({ name: z.string().min(1).max(20), priceCents: z.int().min(0), tags: z.array(z.string()).optional() }),
  responses: { 201: { description: "Created", schema: Product } },
});

const getItem = defineRoute({
  method: "get",
  path: "/api/items/{itemId}",
  summary: "One item",
  tags: ["items"],
  security: "bearer",
  params: z.object({ itemId: z.string().regex(/^[0-9]+$/, "must be digits") }),
  query: z.object({ expand: z.enum(["owner"]).optional() }),
  responses: { 200: { description: "The item", schema: z.object({ id: z.int(), expand: z.string().nullable() }) } },
});

const implementations = [
  implement(listProducts, ({ query }) => ({
    status: 200,
    body: {
      items: [{ id: "p1", name: `sorted ${query.sort.map((s) => `${s.direction}:${s.field}`).join()}`, priceCents: 1 }],
      nextCursor: query.cursor ? null : encodeCursor({ after: `${query.limit}:${query.filter.status ?? "any"}` }),
    },
  })),
  implement(createProduct, ({ body }) => ({
    status: 201,
    body: { id: "p2", name: body.name, priceCents: body.priceCents },
  })),
  implement(getItem, ({ params, query }) => ({
    status: 200,
    body: { id: Number(params.itemId), expand: query.expand ?? null },
  })),
];

let server: Server;
let url: string;
beforeAll(async () => {
  const app = express();
  // Stands in for the bearer authentication of the real server.
  app.use((req: Request & AuthenticatedRequest, _res: Response, next: NextFunction) => {
    if (req.get("authorization") === "Bearer test")
      req.claims = { sub: "u", tid: "t" } as AuthenticatedRequest["claims"];
    next();
  });
  app.use("/api", express.json(), apiRouter(implementations));
  app.use(notFound);
  app.use(errorHandler(createLogger("silent")));
  server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const bot = { "x-api-key": "key", "x-bot-id": "bot-1" };

async function call(path: string, init: RequestInit = {}) {
  const response = await fetch(`${url}${path}`, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

test("a list route: typed, parsed list query; its next cursor comes back", async () => {
  const first = await call("/api/bot/products?limit=5&filter[status]=active&sort=name", { headers: bot });
  expect(first).toEqual({
    status: 200,
    body: { items: [{ id: "p1", name: "sorted asc:name", priceCents: 1 }], nextCursor: expect.any(String) },
  });
  const next = await call(`/api/bot/products?cursor=${first.body.nextCursor}`, { headers: bot });
  expect(next.body).toEqual({ items: [{ id: "p1", name: "sorted desc:createdAt", priceCents: 1 }], nextCursor: null });
});

test("a bad list query is 400 VALIDATION_FAILED naming every bad key, never a 500", async () => {
  const { status, body } = await call("/api/bot/products?limit=1e3&cursor=zz&sort=price&filter[kind]=x&page=2", {
    headers: bot,
  });
  expect(status).toBe(400);
  expect(body).toEqual({
    error: {
      code: "VALIDATION_FAILED",
      message: "Some fields are not valid.",
      details: {
        fields: {
          limit: "must be a whole number from 1 to 100",
          cursor: "is not a cursor this list gave",
          sort: "sorts by createdAt, name (- for descending)",
          "filter[kind]": "is not allowed here",
          page: "is not a parameter of this route",
        },
      },
    },
  });
});

test("bot routes need both headers, checked before the input", async () => {
  for (const headers of [{}, { "x-api-key": "key" }, { "x-bot-id": "bot-1" }, { "x-api-key": " ", "x-bot-id": "b" }]) {
    const { status, body } = await call("/api/bot/products?limit=0", { headers });
    expect(status).toBe(401);
    expect(body).toEqual({
      error: { code: "UNAUTHENTICATED", message: "This route needs the X-API-KEY and X-BOT-ID headers." },
    });
  }
});

test("a JSON body is validated: fields named, JSON only", async () => {
  const post = (body: string, type = "application/json") =>
    call("/api/bot/products", { method: "POST", headers: { ...bot, "content-type": type }, body });
  expect(await post(JSON.stringify({ name: "Tea", priceCents: 300 }))).toEqual({
    status: 201,
    body: { id: "p2", name: "Tea", priceCents: 300 },
  });
  const bad = await post(JSON.stringify({ name: "", priceCents: 1.5, tags: ["a", 2] }));
  expect(bad.status).toBe(400);
  expect(Object.keys((bad.body.error as { details: { fields: object } }).details.fields)).toEqual([
    "name",
    "priceCents",
    "tags.1",
  ]);
  expect((await post("[]")).status).toBe(400);
  expect((await post("{not json")).status).toBe(400);
  const form = await post("name=Tea&priceCents=3", "application/x-www-form-urlencoded");
  expect(form.status).toBe(415);
  expect((form.body.error as { code: string }).code).toBe("UNSUPPORTED_MEDIA_TYPE");
});

test("params and a plain query: validated and typed; bearer routes need a user first", async () => {
  const auth = { authorization: "Bearer test" };
  expect(await call("/api/items/42?expand=owner", { headers: auth })).toEqual({
    status: 200,
    body: { id: 42, expand: "owner" },
  });
  expect((await call("/api/items/abc?expand=owner")).status).toBe(401);
  const bad = await call("/api/items/abc?expand=x&other=1&expand2[a]=b", { headers: auth });
  expect(bad.status).toBe(400);
  expect((bad.body.error as { details: unknown }).details).toEqual({ fields: { itemId: "must be digits" } });
  const badQuery = await call("/api/items/1?expand=x&other=1&expand2[a]=b", { headers: auth });
  expect(Object.keys((badQuery.body.error as { details: { fields: object } }).details.fields).sort()).toEqual([
    "expand",
    "expand2",
    "other",
  ]);
  expect((await call("/api/items/1?expand=owner&expand=owner", { headers: auth })).status).toBe(400);
});

test("the start-up check: each spec implemented exactly once, no handler without a spec, no route twice", () => {
  const specs = [listProducts, createProduct, getItem];
  expect(() => checkImplementations(specs, implementations)).not.toThrow();
  expect(implementationsOf(apiRouter(implementations))).toBe(implementations);
  expect(implementationsOf(express.Router())).toEqual([]);
  expect(() => checkImplementations(specs, implementations.slice(1))).toThrow(
    "The REST route table does not match its handlers:\n- GET /api/bot/products is declared but not implemented",
  );
  expect(() => checkImplementations(specs.slice(1), implementations)).toThrow(
    "- GET /api/bot/products is implemented but no manifest declares it (api)",
  );
  expect(() => checkImplementations(specs, [...implementations, implementations[2]!])).toThrow(
    "- GET /api/items/{itemId} is implemented twice",
  );
  const twin = defineRoute({ ...getItem, params: z.object({ id: z.string() }), path: "/api/items/{id}" });
  expect(() => checkImplementations([...specs, twin], [...implementations, implement(twin, () => undefined)])).toThrow(
    "- GET /api/items/{id} is declared twice",
  );
});

test("defineRoute refuses a path whose parameters differ from params, and statuses that are none", () => {
  expect(() =>
    defineRoute({
      method: "get",
      path: "/api/x/{id}",
      summary: "x",
      tags: [],
      responses: { 200: { description: "" } },
    }),
  ).toThrow("GET /api/x/{id}: the path names {id} but params declares ");
  expect(() =>
    defineRoute({ method: "get", path: "/api/x", summary: "x", tags: [], responses: { 600: { description: "" } } }),
  ).toThrow("GET /api/x: no status 600");
});

test("handlers are typed by their spec (checked by `npm run typecheck`)", () => {
  // @ts-expect-error a status the spec does not list
  implement(getItem, () => ({ status: 201, body: { id: 1, expand: null } }));
  // @ts-expect-error a body that is not the status's schema
  implement(getItem, () => ({ status: 200, body: { id: "1", expand: null } }));
  // @ts-expect-error a parameter the path does not have
  implement(getItem, ({ params }) => ({ status: 200, body: { id: Number(params.id), expand: null } }));
  // @ts-expect-error the list query's filter has no such field
  implement(listProducts, ({ query }) => ({ status: 200, body: { items: [], nextCursor: query.filter.owner } }));
  // Sort fields keep their literal types.
  implement(listProducts, ({ query }) => {
    const field: "createdAt" | "name" = query.sort[0]!.field;
    return { status: 200, body: { items: [], nextCursor: field } };
  });
  expect(implement(getItem, () => undefined).spec).toBe(getItem);
});
