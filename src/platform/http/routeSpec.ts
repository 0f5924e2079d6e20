/**
 * A REST route as static data: method, path, summary, security, zod schemas of its input and its
 * answers by status, and the error codes it may answer. Specs are built without a database or a
 * server, so the OpenAPI document (`npm run openapi`) is built from them alone; a module lists its
 * specs in its manifest (`api`) and gives their handlers in `server()` with `implement()`. Usage:
 * `docs/rest.md` and the top of `routeTable.ts`.
 */
import type { Request, Response } from "express";
import type { z } from "zod";
import type { ErrorCode } from "../errors.ts";
import type { AuthenticatedRequest } from "../graphql/context.ts";
import type { ListQuery, ListQuerySpec } from "./listQuery.ts";

export type HttpMethod = "get" | "post" | "put" | "patch" | "delete";

/**
 * Who may call a route. `bearer`: a signed-in user (`Authorization: Bearer <JWT>`, refused with 401
 * before the input is read); `bearerOptional`: anonymous, or a user when a token is sent; `bot`: the
 * `X-API-KEY` and `X-BOT-ID` headers, both required (their absence is 401 before the input is read;
 * the module checks their values); `metricsToken`: `/metrics`'s own bearer token when configured;
 * `public`: anyone.
 */
export type RouteSecurity = "public" | "bearer" | "bearerOptional" | "bot" | "metricsToken";

export interface ResponseSpec {
  description: string;
  /** The JSON body (application/json). */
  schema?: z.ZodType;
  /** Other media types of the body (binary, text): documented, never parsed. */
  media?: readonly string[];
  /** Response headers worth documenting: name → description. */
  headers?: Readonly<Record<string, string>>;
}

/**
 * A request body: a zod schema (application/json, validated), or several media types, documented
 * only (`validate: false`: the handler reads and checks the body itself, e.g. a service that has
 * its own field errors) or streaming (`multipart/form-data`: mounted before the body parsers, never
 * buffered).
 */
export type BodySpec =
  | z.ZodType
  | {
      content: Readonly<Record<string, z.ZodType>>;
      /** Validate the JSON body with content["application/json"] (default true). */
      validate?: boolean;
      /**
       * The handler refuses a media type not in `content` itself (default false: the route table
       * answers 415 before the handler runs). For a handler that must look first (the payment
       * webhook checks its signature, so that the refusal is recorded).
       */
      checksMediaType?: boolean;
      /** Default true. */
      required?: boolean;
      description?: string;
    };

export interface RouteSpec {
  method: HttpMethod;
  /** The full path in OpenAPI form: `/api/bot/products/{id}`. */
  path: string;
  summary: string;
  description?: string;
  /** Groups in the document (the module's name, or an area: "auth", "bot"…). */
  tags: readonly string[];
  /** Default "public". */
  security?: RouteSecurity;
  /** Path parameters: a z.object whose keys are the path's `{names}` (values arrive as strings). */
  params?: z.ZodObject;
  /** Query: a z.object of flat keys, or `listQuery({…})`. Any key it does not name is refused. */
  query?: z.ZodObject | ListQuerySpec<string, unknown, unknown>;
  body?: BodySpec;
  /**
   * Answers by status (2xx, 3xx, and an error status only when its body is not the error envelope,
   * like readiness's 503); errors in the envelope are listed in `errors`.
   */
  responses: Readonly<Record<number, ResponseSpec>>;
  /**
   * The error codes the route itself may answer (statuses come from the error table). Those of the
   * platform are added: VALIDATION_FAILED for an input, UNAUTHENTICATED for a token, body errors…
   */
  errors?: readonly ErrorCode[];
  /** Default: method + path in camelCase (`getApiUsersId`); set it for a stable, readable name. */
  operationId?: string;
}

/** The path's parameter names, in order: `/api/users/{id}` → ["id"]. */
export function pathParameterNames(path: string): string[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]!);
}

/** Checks a spec once, where it is declared: path and params agree, statuses are HTTP statuses. */
export function defineRoute<const Spec extends RouteSpec>(spec: Spec): Spec {
  const where = `${spec.method.toUpperCase()} ${spec.path}`;
  if (!/^\/[A-Za-z0-9\-._~/{}]*$/.test(spec.path)) throw new Error(`${where}: not a valid path`);
  const named = pathParameterNames(spec.path).sort();
  const declared = Object.keys(spec.params?.shape ?? {}).sort();
  if (named.join() !== declared.join())
    throw new Error(`${where}: the path names {${named.join("}, {")}} but params declares ${declared.join(", ")}`);
  for (const status of Object.keys(spec.responses).map(Number))
    if (!(Number.isInteger(status) && status >= 100 && status <= 599)) throw new Error(`${where}: no status ${status}`);
  if (Object.keys(spec.responses).length === 0) throw new Error(`${where}: no response`);
  return spec;
}

type Output<T> = T extends z.ZodType ? z.output<T> : never;

export type ParamsOf<Spec> = Spec extends { params: infer P extends z.ZodType } ? z.output<P> : Record<string, never>;

export type QueryOf<Spec> = Spec extends { query: infer Q }
  ? Q extends ListQuerySpec<infer Field, infer Filter, infer Cursor>
    ? ListQuery<Field, Filter, Cursor>
    : Output<Q>
  : Record<string, never>;

export type BodyOf<Spec> = Spec extends { body: infer B }
  ? B extends z.ZodType
    ? z.output<B>
    : B extends { validate: false }
      ? unknown
      : B extends { content: { "application/json": infer J extends z.ZodType } }
        ? z.output<J>
        : unknown
  : undefined;

/** What a handler may return: one of the spec's statuses with a body of its schema. */
export type ReplyOf<Spec extends RouteSpec> = {
  [Status in keyof Spec["responses"]]: Status extends number
    ? Spec["responses"][Status] extends { schema: infer S extends z.ZodType }
      ? { status: Status; body: z.input<S>; headers?: Record<string, string> }
      : { status: Status; body?: undefined; headers?: Record<string, string> }
    : never;
}[keyof Spec["responses"]];

export interface HandlerContext<Spec extends RouteSpec> {
  params: ParamsOf<Spec>;
  query: QueryOf<Spec>;
  body: BodyOf<Spec>;
  req: Request & AuthenticatedRequest;
  res: Response;
}

/**
 * Returns the answer (`{ status, body }`), or sends it itself through `res` (binary, streams) and
 * returns nothing. Errors are thrown (AppError), as everywhere.
 */
export type Handler<Spec extends RouteSpec> = (
  context: HandlerContext<Spec>,
  // biome-ignore lint/suspicious/noConfusingVoidType: a handler that sent its answer through `res` returns nothing
) => ReplyOf<Spec> | undefined | void | Promise<ReplyOf<Spec> | undefined | void>;

/** A spec with its handler: what a module's server gives the platform. */
export interface Implementation {
  readonly spec: RouteSpec;
  readonly handler: Handler<RouteSpec>;
}

/** Pairs a spec with its handler, whose context and answer are typed by the spec's schemas. */
export function implement<Spec extends RouteSpec>(spec: Spec, handler: NoInfer<Handler<Spec>>): Implementation {
  return { spec, handler: handler as unknown as Handler<RouteSpec> };
}

/** True for a spec whose body is streamed (multipart): it is mounted before the body parsers. */
export function isStreaming(spec: RouteSpec): boolean {
  const content = bodyContent(spec.body);
  return content !== undefined && "multipart/form-data" in content;
}

/** A body spec as media type → schema (a bare zod schema is application/json). */
export function bodyContent(body: BodySpec | undefined): Readonly<Record<string, z.ZodType>> | undefined {
  if (body === undefined) return undefined;
  return isZodSchema(body) ? { "application/json": body } : body.content;
}

export function isZodSchema(value: unknown): value is z.ZodType {
  return typeof value === "object" && value !== null && "_zod" in value;
}

export function routeName(spec: RouteSpec): string {
  return `${spec.method.toUpperCase()} ${spec.path}`;
}
