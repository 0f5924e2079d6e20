/**
 * Requests for one REST operation of the OpenAPI document, as fast-check arbitraries: path
 * parameters, query strings and bodies built from the operation's schemas (./schemaValues.ts),
 * hostile by turns (./hostile.ts), encoded byte for byte as they go on the wire. A `RestCase` is
 * plain JSON, so a failing one can be kept in regressions.json as it is.
 */
import fc from "fast-check";
import { encodeCursor } from "../../../src/platform/http/listQuery.ts";
import { png as wholePng } from "../../helpers/images.ts";
import {
  brokenJsonText,
  hostileHeaders,
  hostileString,
  hostileValue,
  jsonText,
  PROTOTYPE_KEYS,
  RawJson,
} from "./hostile.ts";
import { type JsonSchema, type SchemaContext, schemaValue } from "./schemaValues.ts";

export interface RestCase {
  /** Path and query string, encoded: sent as they are. */
  path: string;
  contentType?: string;
  body?: string;
  /** The body is bytes written as latin1 (multipart with binary file data). */
  latin1?: boolean;
  /** Sign the body as the payment provider would (the payment webhook). */
  sign?: boolean;
  /** More headers, hostile ones (they win over the caller's). */
  headers?: Record<string, string>;
}

export interface Operation {
  method: string;
  template: string;
  name: string;
  security: "bearer" | "bot" | "none";
  spec: JsonSchema;
}

/** Every operation of the document, with the kind of caller it needs. */
export function operationsOf(document: JsonSchema): Operation[] {
  const operations: Operation[] = [];
  for (const [template, item] of Object.entries(document.paths as Record<string, Record<string, JsonSchema>>))
    for (const [method, spec] of Object.entries(item)) {
      const schemes = ((spec.security ?? []) as Array<Record<string, unknown>>).flatMap((entry) => Object.keys(entry));
      const security = schemes.includes("bearerAuth") ? "bearer" : schemes.includes("apiKey") ? "bot" : "none";
      operations.push({
        method: method.toUpperCase(),
        template,
        name: `${method.toUpperCase()} ${template}`,
        security,
        spec,
      });
    }
  return operations;
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** Percent-encodes every byte of the UTF-8 form but the unreserved ones (lone surrogates become U+FFFD). */
export function encodeComponent(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const char = String.fromCharCode(byte);
    out += byte < 0x80 && UNRESERVED.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Already-encoded hostile pieces: bytes that are not UTF-8, broken escapes, encoded slashes and NULs. */
const RAW_ENCODED = [
  "%ED%A0%80", // a surrogate encoded as UTF-8 (CESU-8)
  "%FF",
  "%C0%AE", // an overlong "."
  "%F4%90%80%80", // past U+10FFFF
  "%",
  "%zz",
  "%0",
  "%00",
  "%2F",
  "%2e%2e",
  "a%00b",
  "%E2%80%AE", // right-to-left override
];

/** A value of any type as the text a URL carries. */
function asText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof RawJson) return value.text;
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  return jsonText(value);
}

function resolve(schema: JsonSchema, document: JsonSchema): JsonSchema {
  if (!schema?.$ref) return schema;
  const path = String(schema.$ref).replace(/^#\//, "").split("/");
  return path.reduce((node: JsonSchema, key) => node?.[key], document);
}

/** One encoded path segment or query value for `schema`. */
function encodedValue(schema: JsonSchema, context: SchemaContext, name: string): fc.Arbitrary<string> {
  const encoded = schemaValue(schema, context, 0, name).map((value) => encodeComponent(asText(value)));
  if (!context.hostile) return encoded;
  return fc.oneof({ weight: 8, arbitrary: encoded }, { weight: 1, arbitrary: fc.constantFrom(...RAW_ENCODED) });
}

function pathOf(operation: Operation, context: SchemaContext): fc.Arbitrary<string> {
  const parameters = ((operation.spec.parameters ?? []) as JsonSchema[])
    .map((parameter) => resolve(parameter, context.document))
    .filter((parameter) => parameter.in === "path");
  const segments: Record<string, fc.Arbitrary<string>> = {};
  for (const parameter of parameters) {
    // `/api/bot/orders/{id}`: an order's id.
    const before = new RegExp(`([^/]+)/\\{${parameter.name}\\}`).exec(operation.template)?.[1];
    const hint = parameter.name === "id" && before ? before : parameter.name;
    segments[parameter.name] = encodedValue(parameter.schema ?? {}, context, hint);
  }
  return fc
    .record(segments)
    .map((values) => operation.template.replace(/\{([^}]+)\}/g, (_all, name: string) => values[name] ?? "x"));
}

/** `filter[a][b]=v` pairs of a deepObject value (arrays repeat the key). */
function flatten(prefix: string, value: unknown): Array<[string, string]> {
  if (Array.isArray(value)) return value.flatMap((item) => flatten(prefix, item));
  if (value !== null && typeof value === "object" && !(value instanceof RawJson))
    return Object.entries(value).flatMap(([key, item]) => flatten(`${prefix}[${key}]`, item));
  return [[prefix, asText(value)]];
}

const encodePair = ([key, value]: [string, string]) =>
  `${encodeComponent(key).replace(/%5B/g, "[").replace(/%5D/g, "]")}=${encodeComponent(value)}`;

/** Query keys and values no route should take without a 400: unknown, prototype, too deep, too many. */
function hostileQuery(names: readonly string[]): fc.Arbitrary<string> {
  const name = names.length > 0 ? fc.constantFrom(...names) : fc.constant("limit");
  return fc.oneof(
    fc.tuple(hostileString({ maxLength: 300 }), hostileString({ maxLength: 1_100 })).map(encodePair),
    fc.constantFrom(...PROTOTYPE_KEYS).map((key) => `${key}[polluted]=1&filter[${key}][polluted]=1`),
    fc.tuple(name, name).map(([a, b]) => `${a}=1&${b}=2`),
    name.map((key) => `${key}[a][b][c][d][e]=1`),
    name.map((key) => `${key}[]=1&${key}[x]=2&${key}=3`),
    fc.constant(Array.from({ length: 101 }, (_, i) => `k${i}=1`).join("&")),
    fc.constantFrom("&&&", "=", "==&=x", "[]=1", "a[=1", "a]=1", "%zz=1", "a=%ED%A0%80", "a=%", "%00=%00", "?"),
    hostileValue({ maxLength: 300 }).map((value) => `cursor=${encodeComponent(encodeCursor(value))}`),
    fc
      .record({ createdAt: hostileString({ maxLength: 300 }), id: hostileString({ maxLength: 60 }) })
      .map((value) => `cursor=${encodeCursor(value)}`),
  );
}

function queryOf(operation: Operation, context: SchemaContext): fc.Arbitrary<string> {
  const parameters = ((operation.spec.parameters ?? []) as JsonSchema[])
    .map((parameter) => resolve(parameter, context.document))
    .filter((parameter) => parameter.in === "query");
  const pairs = parameters.map((parameter) =>
    // A cursor that fits its pattern is still not one the list gave: refused. Only hostile runs send one.
    parameter.name === "cursor" && !context.hostile
      ? fc.constant(undefined)
      : fc.option(
          schemaValue(parameter.schema ?? {}, context, 0, parameter.name).map((value) =>
            parameter.style === "deepObject" ? flatten(parameter.name, value) : [[parameter.name, asText(value)]],
          ),
          { nil: undefined, freq: 2 },
        ),
  ) as fc.Arbitrary<Array<[string, string]> | undefined>[];
  const known = fc.tuple(...pairs).map((chosen) =>
    chosen
      .filter((pair) => pair !== undefined)
      .flat()
      .map(encodePair)
      .join("&"),
  );
  if (!context.hostile) return known;
  const extra = hostileQuery(parameters.map((parameter) => parameter.name));
  return fc.oneof(
    { weight: 3, arbitrary: known },
    {
      weight: 1,
      arbitrary: fc.tuple(known, extra).map(([query, more]) => [query, more].filter((part) => part).join("&")),
    },
  );
}

const CONTENT_TYPES = [
  "text/plain",
  "application/json; charset=utf-16",
  "application/json; charset=latin1",
  "application/x-www-form-urlencoded",
  "multipart/form-data",
  "application/xml",
  "application/json; charset=",
  "*/*",
  "",
];

/** `multipart/form-data` for an upload: files of every kind, hostile names and part headers. */
function multipartBody(hostile: boolean): fc.Arbitrary<Pick<RestCase, "body" | "contentType" | "latin1">> {
  const png = "\x89PNG\r\n\x1a\n";
  const data = fc.oneof(
    fc.uint8Array({ maxLength: 64 }).map((bytes) => png + Buffer.from(bytes).toString("latin1")),
    fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString("latin1")),
    fc.constantFrom("", "\xff\xd8\xff\xe0", "GIF89a", "<svg onload=alert(1)>", png.repeat(20_000)),
    // Whole images, stored when the rest of the request is right.
    fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((fill) => wholePng(fill).toString("latin1")),
  );
  const latin1 = (text: string) => Buffer.from(text, "utf8").toString("latin1");
  const pick = <T>(fit: fc.Arbitrary<T>, other: fc.Arbitrary<T>) => (hostile ? fc.oneof(fit, other) : fit);
  const part = fc
    .record({
      name: pick(fc.constant("file"), hostileString({ maxLength: 300 })),
      filename: pick(fc.constantFrom("a.png", "photo.jpg"), hostileString({ maxLength: 300 })),
      type: pick(
        fc.constantFrom("image/png", "image/jpeg", "image/webp"),
        fc.constantFrom("text/html", "", "image/png\r\nX-Injected: 1"),
      ),
      data: pick(
        fc.uint8Array({ minLength: 16, maxLength: 64 }).map((bytes) => png + Buffer.from(bytes).toString("latin1")),
        data,
      ),
    })
    .map(
      ({ name, filename, type, data: bytes }) =>
        `Content-Disposition: form-data; name="${latin1(name)}"; filename="${latin1(filename)}"\r\n` +
        `Content-Type: ${type}\r\n\r\n${bytes}`,
    );
  const parts = hostile
    ? fc.array(part, { minLength: 0, maxLength: 3 })
    : fc.array(part, { minLength: 1, maxLength: 1 });
  const boundary = hostile ? fc.constantFrom("XB", "", "a".repeat(80)) : fc.constant("XB");
  return fc.tuple(parts, boundary, hostile ? fc.boolean() : fc.constant(true)).map(([parts, boundary, closed]) => ({
    contentType: `multipart/form-data; boundary=${boundary}`,
    body: parts.map((text) => `--${boundary}\r\n${text}\r\n`).join("") + (closed ? `--${boundary}--\r\n` : ""),
    latin1: true,
  }));
}

function bodyOf(
  operation: Operation,
  context: SchemaContext,
): fc.Arbitrary<Pick<RestCase, "body" | "contentType" | "latin1">> {
  const content = resolve(operation.spec.requestBody ?? {}, context.document)?.content as
    | Record<string, { schema?: JsonSchema }>
    | undefined;
  if (!content) return fc.constant({});
  if (content["multipart/form-data"]) return multipartBody(context.hostile);
  const schema = content["application/json"]?.schema ?? {};
  const json = schemaValue(schema, { ...context, maxLength: 120_000 }).map(jsonText);
  if (!context.hostile) return json.map((body) => ({ contentType: "application/json", body }));
  const form = content["application/x-www-form-urlencoded"]
    ? [
        schemaValue(content["application/x-www-form-urlencoded"].schema ?? {}, context).map((value) => ({
          contentType: "application/x-www-form-urlencoded",
          body: flatten("x", value)
            .map(([key, text]) => encodePair([key.replace(/^x\[([^\]]*)\]/, "$1"), text]))
            .join("&"),
        })),
      ]
    : [];
  return fc.oneof(
    { weight: 8, arbitrary: json.map((body) => ({ contentType: "application/json", body })) },
    { weight: 3, arbitrary: brokenJsonText(json).map((body) => ({ contentType: "application/json", body })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...CONTENT_TYPES), json)
        .map(([contentType, body]) => (contentType ? { contentType, body } : { body })),
    },
    { weight: 1, arbitrary: fc.constant({ contentType: "application/json" }) },
    ...form.map((arbitrary) => ({ weight: 2, arbitrary })),
  );
}

/** Requests for one operation: 2 in 5 fit its schemas, the others are hostile anywhere. */
export function restCases(operation: Operation, context: Omit<SchemaContext, "hostile">): fc.Arbitrary<RestCase> {
  return fc.oneof(
    { weight: 2, arbitrary: casesOf(operation, { ...context, hostile: false }) },
    { weight: 3, arbitrary: casesOf(operation, { ...context, hostile: true }) },
  );
}

function casesOf(operation: Operation, context: SchemaContext): fc.Arbitrary<RestCase> {
  const signed = operation.template.startsWith("/api/webhook/") ? fc.boolean() : fc.constant(false);
  const pathContext = { ...context, maxLength: 300 };
  return (
    fc
      .record({
        path: pathOf(operation, pathContext),
        query: queryOf(operation, pathContext),
        body: bodyOf(operation, context),
        sign: signed,
        headers: context.hostile
          ? fc.oneof(
              { weight: 4, arbitrary: fc.constant(undefined) },
              { weight: 1, arbitrary: hostileHeaders({ authorization: operation.security === "none" }) },
            )
          : fc.constant(undefined),
      })
      .map(({ path, query, body, sign, headers }) => ({
        path: query ? `${path}?${query}` : path,
        ...body,
        ...(sign ? { sign } : {}),
        ...(headers ? { headers } : {}),
      }))
      // Node refuses a request line past 16 kB itself (431, before any of ours runs).
      .filter((restCase) => restCase.path.length < 12_000)
  );
}
