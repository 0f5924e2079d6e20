/**
 * The OpenAPI 3.1 document of the REST surface, built from the route table alone (no database, no
 * server): `GET /openapi.json` serves it, `npm run openapi` writes the committed copy and
 * `npm run openapi -- --check` fails when that copy is stale. Same specs, same document, byte for byte.
 */
import { join } from "node:path";
import { AppError, type ErrorCode, isErrorCode } from "../errors.ts";
import { type ModuleManifest, registerModules } from "../modules.ts";
import { projectRoot } from "../paths.ts";
import { version } from "../version.ts";
import { LIST_DEFAULT_LIMIT, LIST_MAX_CURSOR_LENGTH, LIST_MAX_LIMIT, type ListQuerySpec } from "./listQuery.ts";
import { type JsonSchema, SchemaComponents } from "./openapiSchemas.ts";
import { apiSpecs } from "./platformApi.ts";
import { bodyContent, isZodSchema, routeName, type RouteSecurity, type RouteSpec } from "./routeSpec.ts";

export type OpenApiDocument = Record<string, unknown> & {
  openapi: string;
  info: Record<string, unknown>;
  paths: Record<string, Record<string, unknown>>;
};

const DESCRIPTION = `Tessera's REST surface (GraphQL, the main API, is at /graphql).

Errors answer \`{"error": {"code", "message", "details"?}}\`; \`code\` comes from one table shared with GraphQL.
Input refused by a route's schemas is 400 VALIDATION_FAILED with \`details.fields\` naming each field.

List routes share one query format: \`limit\` (1–100, default 20), \`cursor\` (the previous page's \`nextCursor\`),
\`sort\` (comma-separated fields, \`-\` for descending) and \`filter[field]=value\` (nested: \`filter[price][gte]=10\`).
They answer \`{"items": [...], "nextCursor": string | null}\`. Any query key a route does not declare is refused.`;

const SECURITY_SCHEMES = {
  bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "An access token (login)." },
  apiKey: { type: "apiKey", in: "header", name: "X-API-KEY", description: "A bot's API key (with X-BOT-ID)." },
  botId: { type: "apiKey", in: "header", name: "X-BOT-ID", description: "The bot the API key belongs to." },
  metricsToken: { type: "http", scheme: "bearer", description: "METRICS_TOKEN, when the server sets one." },
};

const SECURITY: Record<RouteSecurity, Array<Record<string, string[]>> | undefined> = {
  public: undefined,
  bearer: [{ bearerAuth: [] }],
  bearerOptional: [{}, { bearerAuth: [] }],
  bot: [{ apiKey: [], botId: [] }],
  metricsToken: [{}, { metricsToken: [] }],
};

const LIST_PARAMETERS = {
  ListLimit: {
    name: "limit",
    in: "query",
    description: "Page size: a whole number from 1 to 100 (digits only).",
    schema: { type: "integer", minimum: 1, maximum: LIST_MAX_LIMIT, default: LIST_DEFAULT_LIMIT },
  },
  ListCursor: {
    name: "cursor",
    in: "query",
    description: "Opaque: the previous page's `nextCursor`. Absent for the first page.",
    schema: { type: "string", pattern: "^[A-Za-z0-9_-]+$", maxLength: LIST_MAX_CURSOR_LENGTH },
  },
};

/** The error codes a route may answer: its own and those the platform adds around every handler. */
export function errorCodesOf(spec: RouteSpec): ErrorCode[] {
  const codes = new Set<ErrorCode>(spec.errors ?? []);
  // Every route checks its query (unknown keys are refused) and may fail unexpectedly; past the
  // requests a connection may have unanswered (HTTP/1.1 pipelining), any route is RATE_LIMITED.
  codes.add("VALIDATION_FAILED").add("INTERNAL").add("RATE_LIMITED");
  const api = spec.path.startsWith("/api/");
  // Under /api a sent bearer token is checked (in the database) before any route runs.
  if (api || (spec.security && spec.security !== "public")) codes.add("UNAUTHENTICATED");
  if (api) codes.add("SERVICE_UNAVAILABLE");
  // Under /api a request's transaction may be aborted by PostgreSQL for another one (a deadlock) on
  // every attempt the server makes: CONFLICT, details.reason CONCURRENT_TRANSACTION.
  if (api) codes.add("CONFLICT");
  // Under /api a request's body is read (JSON, forms) before any route runs, whether the route
  // takes one or not: too large, or in an encoding or charset not supported, it is refused.
  if (spec.body || api) codes.add("PAYLOAD_TOO_LARGE").add("UNSUPPORTED_MEDIA_TYPE");
  // A status the route answers itself (readiness's 503) is its answer, not an error.
  return [...codes].filter((code) => !(statusOf(code) in spec.responses)).sort();
}

function statusOf(code: ErrorCode): number {
  if (!isErrorCode(code)) throw new Error(`unknown error code ${code}: is its module's manifest registered?`);
  return new AppError(code).status;
}

function operationId(spec: RouteSpec): string {
  if (spec.operationId) return spec.operationId;
  const words = spec.path.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const name = words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join("") || "Root";
  return `${spec.method}${name}`;
}

function parameters(spec: RouteSpec, components: SchemaComponents, owner: string): unknown[] {
  const list: unknown[] = [];
  const fromObject = (schema: JsonSchema, into: "path" | "query") => {
    const required = new Set((schema.required as string[] | undefined) ?? []);
    for (const [name, property] of Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>)) {
      const nested = property.type === "object";
      list.push({
        name,
        in: into,
        required: into === "path" || required.has(name),
        ...(typeof property.description === "string" ? { description: property.description } : {}),
        ...(nested ? { style: "deepObject", explode: true } : {}),
        schema: property,
      });
    }
  };
  if (spec.params) fromObject(components.convert(spec.params, "input", owner), "path");
  const query = spec.query;
  if (query && "kind" in query) list.push(...listParameters(query, components, owner));
  else if (query) fromObject(components.convert(query, "input", owner), "query");
  return list;
}

function listParameters(query: ListQuerySpec, components: SchemaComponents, owner: string): unknown[] {
  const list: unknown[] = [];
  list.push(
    query.maxLimit === LIST_MAX_LIMIT
      ? { $ref: "#/components/parameters/ListLimit" }
      : {
          ...LIST_PARAMETERS.ListLimit,
          schema: {
            ...LIST_PARAMETERS.ListLimit.schema,
            maximum: query.maxLimit,
            default: Math.min(LIST_DEFAULT_LIMIT, query.maxLimit),
          },
        },
    { $ref: "#/components/parameters/ListCursor" },
  );
  if (query.sortFields.length > 0) {
    const field = `-?(${query.sortFields.join("|")})`;
    list.push({
      name: "sort",
      in: "query",
      description:
        query.maxSortKeys === 1
          ? `One field, \`-\` for descending: ${query.sortFields.join(", ")}.`
          : `Comma-separated, \`-\` for descending, each field once: ${query.sortFields.join(", ")}.`,
      schema: {
        type: "string",
        pattern: query.maxSortKeys === 1 ? `^${field}$` : `^${field}(,${field})*$`,
        ...(query.defaultSort ? { default: query.defaultSort } : {}),
      },
    });
  }
  const filter = query.filter ? components.convert(query.filter, "input", owner) : undefined;
  if (filter && Object.keys((filter.properties ?? {}) as object).length > 0) {
    list.push({
      name: "filter",
      in: "query",
      description: "`filter[field]=value`, nested with more brackets; a repeated key gives a list.",
      style: "deepObject",
      explode: true,
      schema: filter,
    });
  }
  return list;
}

function requestBody(spec: RouteSpec, components: SchemaComponents, owner: string): unknown {
  const content = bodyContent(spec.body);
  if (!content || !spec.body) return undefined;
  const options: { required?: boolean; description?: string } = isZodSchema(spec.body) ? {} : spec.body;
  return {
    required: options.required ?? true,
    ...(options.description ? { description: options.description } : {}),
    content: Object.fromEntries(
      Object.entries(content).map(([type, schema]) => [type, { schema: components.convert(schema, "input", owner) }]),
    ),
  };
}

function responses(spec: RouteSpec, components: SchemaComponents, owner: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [status, response] of Object.entries(spec.responses)) {
    const content: Record<string, unknown> = {};
    if (response.schema) content["application/json"] = { schema: components.convert(response.schema, "output", owner) };
    for (const type of response.media ?? [])
      content[type] = type.startsWith("text/") ? { schema: { type: "string" } } : {};
    out[status] = {
      description: response.description,
      ...(response.headers ? { headers: headerObjects(response.headers) } : {}),
      ...(Object.keys(content).length > 0 ? { content } : {}),
    };
  }
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of errorCodesOf(spec)) byStatus.set(statusOf(code), [...(byStatus.get(statusOf(code)) ?? []), code]);
  for (const [status, codes] of byStatus) {
    const retry = codes.some((code) => code === "RATE_LIMITED" || code === "SERVICE_UNAVAILABLE");
    out[String(status)] = {
      description: codes.map((code) => `${code}: ${new AppError(code).message}`).join(" / "),
      ...(retry ? { headers: headerObjects({ "Retry-After": "Seconds to wait before trying again." }) } : {}),
      content: {
        "application/json": {
          schema: {
            allOf: [
              { $ref: "#/components/schemas/ErrorEnvelope" },
              { properties: { error: { properties: { code: { enum: codes } } } } },
            ],
          },
        },
      },
    };
  }
  return out;
}

function headerObjects(headers: Readonly<Record<string, string>>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, description]) => [name, { description, schema: { type: "string" } }]),
  );
}

function errorEnvelopeSchema(codes: readonly string[]): JsonSchema {
  return {
    description: "Every REST error: the code (one table with GraphQL's extensions.code), a message, details.",
    type: "object",
    required: ["error"],
    additionalProperties: false,
    properties: {
      error: {
        type: "object",
        required: ["code", "message"],
        additionalProperties: false,
        properties: {
          code: { type: "string", enum: [...codes] },
          message: { type: "string" },
          details: {
            type: "object",
            description: "`fields` (field → problem) for VALIDATION_FAILED; `reason` and others by code.",
          },
        },
      },
    },
  };
}

/** The document of these specs (the platform's and every module's, in module-list order). */
export function buildOpenApiDocument(specs: readonly RouteSpec[], version: string): OpenApiDocument {
  const components = new SchemaComponents();
  const paths: Record<string, Record<string, unknown>> = {};
  const ids = new Set<string>();
  const codes = new Set<string>();
  for (const spec of specs) {
    const where = routeName(spec);
    const id = operationId(spec);
    if (ids.has(id)) throw new Error(`${where}: operationId ${id} is taken; set operationId`);
    ids.add(id);
    for (const code of errorCodesOf(spec)) codes.add(code);
    const parameterList = parameters(spec, components, id);
    const body = requestBody(spec, components, id);
    const security = SECURITY[spec.security ?? "public"];
    paths[spec.path] ??= {};
    paths[spec.path]![spec.method] = {
      operationId: id,
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      tags: [...spec.tags],
      ...(security ? { security } : {}),
      ...(parameterList.length > 0 ? { parameters: parameterList } : {}),
      ...(body ? { requestBody: body } : {}),
      responses: responses(spec, components, id),
    };
  }
  components.add("ErrorEnvelope", errorEnvelopeSchema([...codes].sort()), "the error envelope");
  const tags = [...new Set(specs.flatMap((spec) => spec.tags))].sort().map((name) => ({ name }));
  // Insertion order is the specs' (module-list order), so the text only changes when a spec does;
  // paths and schemas are sorted by name, so that moving a spec in a list does not move it here.
  const sorted = <T>(record: Record<string, T>) =>
    Object.fromEntries(
      Object.keys(record)
        .sort()
        .map((key) => [key, record[key]!]),
    );
  return {
    openapi: "3.1.0",
    info: { title: "Tessera REST API", version, description: DESCRIPTION },
    tags,
    paths: sorted(paths),
    components: {
      securitySchemes: SECURITY_SCHEMES,
      parameters: LIST_PARAMETERS,
      schemas: sorted(components.schemas),
    },
  };
}

/** The committed file's text: two-space JSON and a final newline. */
export function renderOpenApiDocument(document: OpenApiDocument): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

export const OPENAPI_PATH = join(projectRoot, "openapi.json");

/** The committed document's text for a module list (what `npm run openapi` writes). */
export function openApiText(modules: readonly ModuleManifest[]): string {
  registerModules(modules);
  return renderOpenApiDocument(buildOpenApiDocument(apiSpecs(modules), version));
}
