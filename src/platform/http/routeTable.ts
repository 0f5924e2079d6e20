/**
 * The REST route table: routes are declared as data (`defineRoute`, in a module's `api.ts`, listed
 * in its manifest's `api`) and implemented in its `server()` (`implement`), so that the OpenAPI
 * document is built from the specs alone and every request is validated the same way.
 *
 * ```ts
 * // src/modules/commerce/api.ts — static, no database
 * export const listProducts = defineRoute({
 *   method: "get", path: "/api/bot/products", summary: "The bot's products", tags: ["bot"], security: "bot",
 *   query: listQuery({ sort: ["createdAt", "name"], defaultSort: "-createdAt",
 *     filter: z.object({ status: z.enum(["active", "archived"]).optional() }),
 *     cursor: z.object({ createdAt: z.string(), id: z.uuid() }) }),
 *   responses: { 200: { description: "A page of products", schema: listResponse(Product) } },
 * });
 * export const createProduct = defineRoute({
 *   method: "post", path: "/api/bot/products", summary: "Adds a product", tags: ["bot"], security: "bot",
 *   body: z.object({ name: z.string().min(1).max(200), priceCents: z.int().min(0) }),
 *   responses: { 201: { description: "The new product", schema: Product } }, errors: ["CONFLICT"],
 * });
 * export const COMMERCE_API = [listProducts, createProduct];   // manifest: `api: COMMERCE_API`
 *
 * // src/modules/commerce/index.ts, in server(): the handlers (types come from the specs)
 * implementations: () => [
 *   implement(listProducts, async ({ query, req }) => ({ status: 200, body: await products.page(req, query) })),
 *   implement(createProduct, async ({ body, req }) => ({ status: 201, body: await products.create(req, body) })),
 * ],
 * ```
 *
 * Before a handler runs: the security check (bearer: a user; bot: both headers), then params, query
 * and body are validated; a refusal is 400 VALIDATION_FAILED with `details.fields`. At start the
 * server refuses a spec without implementation, an implementation without spec, and a route twice.
 */
import { Router, type NextFunction, type Request, type Response } from "express";
import type { z } from "zod";
import { AppError } from "../errors.ts";
import type { AuthenticatedRequest } from "../graphql/context.ts";
import { requireUser } from "./authenticate.ts";
import {
  bodyKeyName,
  droppedKeys,
  invalidFields,
  issueFields,
  parseQueryString,
  queryKeyName,
  type QueryObject,
} from "./listQuery.ts";
import { bodyContent, isZodSchema, routeName, type Implementation, type RouteSpec } from "./routeSpec.ts";

export { defineRoute, implement } from "./routeSpec.ts";
export type { Implementation, RouteSpec } from "./routeSpec.ts";
export { decodeCursor, encodeCursor, listQuery, listResponse } from "./listQuery.ts";

const IMPLEMENTS = Symbol("tessera.implements");

/** Express path of a spec's path under a mount point: `/api/users/{id}` at "/api" → `/users/:id`. */
export function expressPath(path: string, mountedAt: string): string {
  if (mountedAt && !path.startsWith(`${mountedAt}/`)) throw new Error(`${path} is not under ${mountedAt}`);
  return path.slice(mountedAt.length).replace(/\{([^}]+)\}/g, ":$1");
}

/**
 * The route template of a path of the table (`/api/users/:id`), for a request refused before its
 * route's handler ran (a bad token, a wrong method); undefined for a path of no route. A path that
 * two templates match is named by the one with fewer parameters (`/api/users/me`, not `…/:id`).
 */
export function routeOfPath(specs: readonly RouteSpec[]): (path: string) => string | undefined {
  const parameters = (spec: RouteSpec) => spec.path.split("{").length;
  const routes = new Map<string, RegExp>();
  for (const spec of [...specs].sort((a, b) => parameters(a) - parameters(b)))
    routes.set(expressPath(spec.path, ""), pathPattern(spec.path));
  return (path) => {
    for (const [template, pattern] of routes) if (pattern.test(path)) return template;
    return undefined;
  };
}

/**
 * A router of implementations, for a module's `routes` or `streamingRoutes` (mounted at /api);
 * the server counts the implementations it carries.
 */
export function apiRouter(implementations: readonly Implementation[], mountedAt = "/api"): Router {
  const router = caseSensitiveRouter();
  for (const implementation of implementations) {
    const { spec } = implementation;
    router[spec.method](expressPath(spec.path, mountedAt), routeHandler(implementation));
  }
  (router as unknown as Record<symbol, readonly Implementation[]>)[IMPLEMENTS] = implementations;
  return router;
}

/**
 * A router that tells `/api/users` from `/API/Users`, as the app does: a proxy's allow-list that
 * matches paths as written cannot be passed by changing their case.
 */
export function caseSensitiveRouter(): Router {
  return Router({ caseSensitive: true });
}

/**
 * 405 METHOD_NOT_ALLOWED with `Allow` for a request whose path is a route of the table under other
 * methods (HEAD is allowed wherever GET is); mounted after every route, before the 404.
 */
export function methodNotAllowed(specs: readonly RouteSpec[]) {
  const routes = new Map<string, { pattern: RegExp; methods: Set<string> }>();
  for (const spec of specs) {
    const key = spec.path.replace(/\{[^}]+\}/g, "{}");
    let route = routes.get(key);
    if (!route) routes.set(key, (route = { pattern: pathPattern(spec.path), methods: new Set() }));
    route.methods.add(spec.method.toUpperCase());
    if (spec.method === "get") route.methods.add("HEAD");
  }
  return (req: Request, res: Response, next: NextFunction): void => {
    const allowed = new Set<string>();
    for (const { pattern, methods } of routes.values())
      if (pattern.test(req.path)) for (const method of methods) allowed.add(method);
    if (allowed.size === 0 || allowed.has(req.method)) {
      next();
      return;
    }
    const allow = [...allowed].sort().join(", ");
    res.setHeader("Allow", allow);
    next(new AppError("METHOD_NOT_ALLOWED", `${req.path} takes ${allow}, not ${req.method}.`));
  };
}

/** A spec path as Express matches it: each `{param}` one segment, a trailing slash optional. */
export function pathPattern(path: string): RegExp {
  const literal = (text: string) => text.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
  const segments = path.split(/\{[^}]+\}/).map(literal);
  return new RegExp(`^${segments.join("[^/]+")}/?$`);
}

/** The implementations a router made by `apiRouter` carries (none for other routers). */
export function implementationsOf(router: unknown): readonly Implementation[] {
  return (router as Record<symbol, readonly Implementation[] | undefined>)[IMPLEMENTS] ?? [];
}

/**
 * Refuses (throws) a table the server cannot serve as documented: a spec without implementation,
 * an implementation of an undeclared spec, one spec implemented twice, one route declared twice.
 */
export function checkImplementations(specs: readonly RouteSpec[], implementations: readonly Implementation[]): void {
  const problems: string[] = [];
  const routes = new Map<string, RouteSpec>();
  for (const spec of specs) {
    const key = `${spec.method} ${spec.path.replace(/\{[^}]+\}/g, "{}")}`;
    if (routes.has(key)) problems.push(`${routeName(spec)} is declared twice`);
    routes.set(key, spec);
  }
  const declared = new Set(specs);
  const implemented = new Set<RouteSpec>();
  for (const { spec } of implementations) {
    if (!declared.has(spec)) problems.push(`${routeName(spec)} is implemented but no manifest declares it (api)`);
    else if (implemented.has(spec)) problems.push(`${routeName(spec)} is implemented twice`);
    implemented.add(spec);
  }
  for (const spec of specs)
    if (!implemented.has(spec)) problems.push(`${routeName(spec)} is declared but not implemented`);
  if (problems.length > 0)
    throw new Error(`The REST route table does not match its handlers:\n- ${problems.join("\n- ")}`);
}

/** The raw query string of a request (Express 5's own parser flattens brackets). */
function rawQuery(req: Request): string {
  const url = req.originalUrl ?? req.url;
  const at = url.indexOf("?");
  return at === -1 ? "" : url.slice(at + 1);
}

function checkSecurity(spec: RouteSpec, req: Request & AuthenticatedRequest): void {
  if (spec.security === "bearer") requireUser(req);
  if (spec.security === "bot" && !(req.get("x-api-key")?.trim() && req.get("x-bot-id")?.trim()))
    throw new AppError("UNAUTHENTICATED", "This route needs the X-API-KEY and X-BOT-ID headers.");
}

function parseParams(spec: RouteSpec, req: Request): unknown {
  if (!spec.params) return {};
  const parsed = spec.params.safeParse({ ...req.params });
  if (!parsed.success) throw invalidFields(issueFields(parsed.error));
  return parsed.data;
}

const strictSchemas = new WeakMap<z.ZodObject, z.ZodObject>();
/** The strict copy of a route's query schema, made once. */
function strictOf(schema: z.ZodObject): z.ZodObject {
  let strict = strictSchemas.get(schema);
  if (!strict) strictSchemas.set(schema, (strict = schema.strict()));
  return strict;
}

export function parseQuery(spec: RouteSpec, raw: string): unknown {
  const query: QueryObject = parseQueryString(raw);
  const schema = spec.query;
  if (schema && "kind" in schema) return schema.parse(query);
  if (!schema) {
    const keys = Object.keys(query);
    if (keys.length > 0)
      throw invalidFields(Object.fromEntries(keys.map((k) => [k, "is not a parameter of this route"])));
    return {};
  }
  // A z.looseObject takes any other key as it comes (a route whose URLs others decorate).
  const loose = schema.def.catchall !== undefined;
  const parsed = (loose ? schema : strictOf(schema)).safeParse(query);
  if (!parsed.success) throw invalidFields(issueFields(parsed.error));
  if (loose) return parsed.data;
  const dropped = droppedKeys(query, parsed.data, []);
  if (dropped.length > 0)
    throw invalidFields(Object.fromEntries(dropped.map((p) => [queryKeyName(p), "is not allowed here"])));
  return parsed.data;
}

function parseBody(spec: RouteSpec, req: Request): unknown {
  const content = bodyContent(spec.body);
  if (!content) {
    // A route that takes no body refuses the keys of one, as a route refuses keys its body does not take.
    const keys = req.body && typeof req.body === "object" ? Object.keys(req.body as object) : [];
    if (keys.length > 0) throw invalidFields(Object.fromEntries(keys.map((key) => [key, "is not allowed here"])));
    return undefined;
  }
  if ("multipart/form-data" in content) return undefined;
  const body = isZodSchema(spec.body) ? undefined : spec.body;
  // A body of a type the route does not take is 415, whether or not the route validates it (req.is
  // answers false for a body of another type). No body at all — neither Content-Length nor
  // Transfer-Encoding, where req.is answers null — or an empty one (Content-Length: 0) is no body, of
  // whatever type it declares: its fields are missing.
  const types = Object.keys(content);
  const noBody = req.get("content-length") === "0" || req.is(types) === null;
  if (!body?.checksMediaType && !noBody && req.is(types) === false)
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", `Send the body as ${types.join(" or ")}.`);
  const json = content["application/json"];
  if (body?.validate === false || !json) return req.body;
  if (!noBody && !req.is("application/json"))
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json.");
  const parsed = json.safeParse(req.body ?? {});
  if (!parsed.success) throw invalidFields(issueFields(parsed.error, [], bodyKeyName));
  return parsed.data;
}

function routeHandler({ spec, handler }: Implementation) {
  const template = expressPath(spec.path, "");
  return async (req: Request & AuthenticatedRequest, res: Response): Promise<void> => {
    // The label of its metrics and its log line: the whole path, wherever the router is mounted.
    res.locals.route = template;
    checkSecurity(spec, req);
    const params = parseParams(spec, req);
    const query = parseQuery(spec, rawQuery(req));
    const body = parseBody(spec, req);
    // biome-ignore lint/suspicious/noExplicitAny: the context's types come from the spec, checked in implement()
    const reply = await handler({ params, query, body, req, res } as any);
    if (!reply) {
      // A handler sends nothing to a client that has left (res destroyed): no answer is owed then.
      if (!res.headersSent && !res.destroyed)
        throw new Error(`${routeName(spec)}: the handler returned no answer and sent none`);
      return;
    }
    for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
    res.status(reply.status);
    if (reply.body === undefined) res.end();
    else res.json(reply.body);
  };
}
