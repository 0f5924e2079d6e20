/**
 * fast-check arbitraries from the JSON Schemas of the OpenAPI document: values that mostly fit
 * the schema (real ids of the fuzzer's tenant where a UUID goes, strings matching the pattern, the
 * enum's members), with a hostile value (./hostile.ts) in place of any node, required keys left
 * out and unknown keys added. Right and wrong by turns, so that requests reach past validation.
 */
import fc from "fast-check";
import { hostileValue, PROTOTYPE_KEYS } from "./hostile.ts";

// biome-ignore lint/suspicious/noExplicitAny: JSON Schema is untyped data
export type JsonSchema = Record<string, any>;

export interface Known {
  /** Ids of real rows of the fuzzer's tenant, by table (`tenants`: its own). */
  idsByTable: Readonly<Record<string, readonly string[]>>;
  /** Integers that name something (a customer's Telegram id). */
  integers: readonly number[];
  /** Strings that name something (a username, a provider's payment id). */
  strings: readonly string[];
  /** The signed-in owner's e-mail and the tenant's slug. */
  email: string;
  slug: string;
}

const ALIASES: Readonly<Record<string, string>> = {
  member: "users",
  recipient: "users",
  owner: "users",
  replyTo: "messages",
  referrer: "customers",
};

/**
 * The table a field's name points at (`productId` → products, `memberIds` → users, a path's
 * `orders/{id}` → orders), when the tenant has rows there.
 */
export function tableOf(name: string | undefined, known: Known): string | undefined {
  if (!name) return undefined;
  const stem = name.replace(/Ids?$/, "");
  const snake = (ALIASES[stem] ?? stem).replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`).replace(/^_/, "");
  for (const table of [snake, `${snake}s`, `${snake.replace(/y$/, "ie")}s`, snake.replace(/-/g, "_")])
    if (known.idsByTable[table]?.length) return table;
  return undefined;
}

/** Real ids for a field: those of its table first, any of the tenant's otherwise. */
export function knownIds(known: Known, name?: string): string[] {
  const table = tableOf(name, known);
  return table ? [...known.idsByTable[table]!] : Object.values(known.idsByTable).flat();
}

const STRONG_PASSWORD = "correct horse battery staple 42!";

/** Strings a field of this name would take, so that some inputs get past validation. */
export function namedStrings(name: string | undefined, known: Known): string[] {
  const lower = (name ?? "").toLowerCase();
  if (/email|login/.test(lower)) return [known.email, "nobody@example.test"];
  if (/tenant/.test(lower)) return [known.slug];
  if (/password/.test(lower)) return [STRONG_PASSWORD];
  if (/url|link/.test(lower)) return ["http://127.0.0.1:9/x"];
  if (/module/.test(lower)) return ["events", "commerce", "messaging", "identity"];
  if (/telegram/.test(lower)) return known.integers.map(String);
  if (/provider/.test(lower)) return ["mock", ...known.strings];
  return [];
}

export interface SchemaContext {
  /** The whole document, for `$ref`. */
  document: JsonSchema;
  known: Known;
  /** Largest hostile string (a URL component must stay well under the header limit). */
  maxLength?: number;
  /** Hostile values, left-out and unknown keys by turns; false: values that fit the schema only. */
  hostile: boolean;
}

const MAX_DEPTH = 6;

function resolve(schema: JsonSchema, context: SchemaContext): JsonSchema {
  let current = schema;
  for (let hops = 0; current?.$ref && hops < 10; hops++) {
    const path = String(current.$ref).replace(/^#\//, "").split("/");
    current = path.reduce((node: JsonSchema, key) => node?.[key.replaceAll("~1", "/").replaceAll("~0", "~")], {
      ...context.document,
    });
  }
  return current ?? {};
}

/** A value for `schema`: fitting most of the time, hostile at any node some of the time. */
export function schemaValue(
  schema: JsonSchema,
  context: SchemaContext,
  depth = 0,
  name?: string,
): fc.Arbitrary<unknown> {
  if (!context.hostile) return fittingValue(resolve(schema, context), context, depth, name);
  return fc.oneof(
    { weight: 5, arbitrary: fittingValue(resolve(schema, context), context, depth, name) },
    { weight: 1, arbitrary: hostileValue({ maxLength: context.maxLength }) },
  );
}

function typesOf(schema: JsonSchema): string[] {
  if (Array.isArray(schema.type)) return schema.type;
  if (typeof schema.type === "string") return [schema.type];
  if (schema.properties) return ["object"];
  if (schema.items) return ["array"];
  return [];
}

function fittingValue(schema: JsonSchema, context: SchemaContext, depth: number, name?: string): fc.Arbitrary<unknown> {
  if (depth > MAX_DEPTH) return fc.constant(null);
  if ("const" in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives) && alternatives.length > 0)
    return fc.oneof(
      ...alternatives.map((alternative: JsonSchema) => schemaValue(alternative, context, depth + 1, name)),
    );
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0)
    return fittingValue(
      Object.assign({}, ...schema.allOf.map((part: JsonSchema) => resolve(part, context))),
      context,
      depth,
      name,
    );
  const types = typesOf(schema);
  if (types.length === 0) return fc.jsonValue({ maxDepth: 2 });
  return fc.oneof(...types.map((type) => valueOfType(type, schema, context, depth, name)));
}

function valueOfType(
  type: string,
  schema: JsonSchema,
  context: SchemaContext,
  depth: number,
  name?: string,
): fc.Arbitrary<unknown> {
  switch (type) {
    case "null":
      return fc.constant(null);
    case "boolean":
      return fc.boolean();
    case "integer":
    case "number":
      return numberValue(type, schema, context);
    case "string":
      return stringValue(schema, context, name);
    case "array":
      return fc.array(schemaValue(schema.items ?? {}, context, depth + 1, name), {
        minLength: Math.min(schema.minItems ?? 0, 3),
        maxLength: Math.min(Math.max(schema.minItems ?? 0, 3), schema.maxItems ?? 3),
      });
    case "object":
      return objectValue(schema, context, depth);
    default:
      return fc.jsonValue({ maxDepth: 1 });
  }
}

function numberValue(type: string, schema: JsonSchema, context: SchemaContext): fc.Arbitrary<unknown> {
  const min = typeof schema.minimum === "number" ? schema.minimum : -1_000_000;
  const max = typeof schema.maximum === "number" ? schema.maximum : 1_000_000;
  const edges = [min, max, min - 1, max + 1].filter(Number.isFinite);
  const inRange =
    type === "integer"
      ? fc.integer({ min: Math.max(min, Number.MIN_SAFE_INTEGER), max: Math.min(max, Number.MAX_SAFE_INTEGER) })
      : fc.double({ min, max, noNaN: true });
  const known = context.known.integers.filter((n) => n >= min && n <= max);
  return fc.oneof(inRange, fc.constantFrom(...edges), ...(known.length > 0 ? [fc.constantFrom(...known)] : []));
}

function stringValue(schema: JsonSchema, context: SchemaContext, name?: string): fc.Arbitrary<unknown> {
  const { known } = context;
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.min(schema.maxLength ?? 40, 200);
  const options: fc.Arbitrary<unknown>[] = [];
  let pattern: RegExp | undefined;
  try {
    pattern = typeof schema.pattern === "string" ? new RegExp(schema.pattern) : undefined;
  } catch {
    pattern = undefined;
  }
  // What names something real, weighted up: an input that names nothing stops at NOT_FOUND.
  const named = namedStrings(name, known).filter((text) => !pattern || pattern.test(text));
  if (named.length > 0) options.push(fc.constantFrom(...named), fc.constantFrom(...named), fc.constantFrom(...named));
  // A field that names a table (`productId`, the `{id}` of `/api/images/{id}`) takes its real ids.
  const ids = (schema.format === "uuid" || tableOf(name, known) ? knownIds(known, name) : []).filter(
    (id) => !pattern || pattern.test(id),
  );
  if (ids.length > 0) options.push(fc.constantFrom(...ids), fc.constantFrom(...ids), fc.constantFrom(...ids));
  if (schema.format === "uuid") {
    options.push(fc.uuid());
  } else if (schema.format === "date-time") {
    options.push(fc.date({ noInvalidDate: true }).map((date) => date.toISOString()));
  } else if (schema.format === "email") {
    options.push(fc.emailAddress());
  } else if (schema.format === "uri") {
    // Loopback only: nothing the fuzzer sets may point off the machine.
    options.push(
      fc.constantFrom("http://127.0.0.1:9/hook", "https://localhost:9/", "http://[::1]:9/x?y=1#z", "ftp://127.0.0.1/"),
      fc.webPath().map((path) => `http://127.0.0.1:9${path}`),
    );
  } else if (pattern) {
    options.push(fc.stringMatching(pattern).filter((text) => text.length <= Math.max(maxLength, 64)));
  }
  options.push(fc.string({ minLength, maxLength: Math.max(minLength, maxLength) }));
  const strings = known.strings.filter((text) => !pattern || pattern.test(text));
  if (strings.length > 0) options.push(fc.constantFrom(...strings));
  // Just past the bounds the schema sets.
  if (schema.maxLength !== undefined && schema.maxLength < 20_000)
    options.push(fc.constant("x".repeat(schema.maxLength + 1)));
  return fc.oneof(...options);
}

function objectValue(schema: JsonSchema, context: SchemaContext, depth: number): fc.Arbitrary<unknown> {
  const properties: Record<string, JsonSchema> = schema.properties ?? {};
  const required = new Set<string>(schema.required ?? []);
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, property] of Object.entries(properties))
    record[key] = schemaValue(property, context, depth + 1, key);
  const requiredKeys = Object.keys(properties).filter((key) => required.has(key));
  const base = fc.record(record, { requiredKeys });
  if (!context.hostile) return base;
  const extraKey = fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS), fc.string({ maxLength: 12 }));
  // A key the schema does not name.
  const extra = fc
    .tuple(base, extraKey, hostileValue({ maxLength: 300 }))
    .map(([value, key, added]) => ({ ...(value as object), [key]: added }));
  // A required key left out.
  const missing = fc
    .tuple(base, fc.nat())
    .map(([value, n]) => omit(value as Record<string, unknown>, requiredKeys[n % requiredKeys.length]!));
  return fc.oneof(
    { weight: 6, arbitrary: base },
    { weight: 1, arbitrary: extra },
    ...(requiredKeys.length > 0 ? [{ weight: 1, arbitrary: missing }] : []),
  );
}

function omit(value: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _left, ...rest } = value;
  return rest;
}
