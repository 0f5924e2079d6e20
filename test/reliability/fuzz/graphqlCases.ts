/**
 * Requests for one Mutation field, as fast-check arbitraries built from the schema's
 * introspection (never a list written here): each argument's value generated from its input type
 * — scalars, enums, lists and input objects, recursively — right and wrong by turns: hostile
 * values of ./hostile.ts, wrong types, required fields left out, unknown fields added. Sent as
 * variables (JSON, with NaN and 10,000 nested arrays where JSON allows a token), as literals in the
 * document, or as a broken body. A `GraphqlCase` is plain JSON, kept as it is in regressions.json.
 */
import fc from "fast-check";
import {
  ACCEPTS,
  brokenJsonText,
  DATE_WORDS,
  EnumName,
  hostileHeaders,
  hostileValue,
  jsonText,
  NUMBER_WORDS,
  RawJson,
  UUID_EDGES,
} from "./hostile.ts";
import { type Known, knownIds, namedStrings } from "./schemaValues.ts";

export interface GraphqlCase {
  /** The document. */
  query: string;
  /** The variables as JSON text (it may hold NaN or -0 tokens). */
  variables?: string;
  /** A whole body sent instead of `{query, variables}` (broken JSON, wrong shapes). */
  body?: string;
  /** Headers other than application/json. */
  accept?: string;
  contentType?: string;
  /** More headers, hostile ones. */
  headers?: Record<string, string>;
}

const CONTENT_TYPES = [
  "application/graphql",
  "text/plain",
  "application/json; charset=utf-16",
  "application/json; charset=utf-8",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "",
];

export interface TypeRef {
  kind: string;
  name: string | null;
  ofType: TypeRef | null;
}

export interface IntrospectedType {
  kind: string;
  name: string;
  enumValues: Array<{ name: string }> | null;
  inputFields: Array<{ name: string; type: TypeRef; defaultValue: string | null }> | null;
  fields: Array<{ name: string; args: Array<{ name: string; type: TypeRef }>; type: TypeRef }> | null;
  interfaces: Array<{ name: string }> | null;
}

export interface Introspection {
  queryType: string;
  mutationType: string;
  types: Map<string, IntrospectedType>;
}

/** Depth 9 at most: under the server's GRAPHQL_MAX_DEPTH, which also holds for introspection. */
export const INTROSPECTION_QUERY = `{
  __schema {
    queryType { name }
    mutationType { name }
    types {
      kind name
      enumValues { name }
      inputFields { name defaultValue type { ...Ref } }
      fields { name args { name type { ...Ref } } type { ...Ref } }
      interfaces { name }
    }
  }
}
fragment Ref on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }`;

export function readIntrospection(data: {
  __schema: { queryType: { name: string }; mutationType: { name: string }; types: IntrospectedType[] };
}): Introspection {
  const schema = data.__schema;
  return {
    queryType: schema.queryType.name,
    mutationType: schema.mutationType.name,
    types: new Map(schema.types.map((type) => [type.name, type])),
  };
}

/** `[Int!]!` from a type reference. */
export function typeName(ref: TypeRef): string {
  if (ref.kind === "NON_NULL") return `${typeName(ref.ofType!)}!`;
  if (ref.kind === "LIST") return `[${typeName(ref.ofType!)}]`;
  return ref.name!;
}

function named(ref: TypeRef): TypeRef {
  return ref.ofType ? named(ref.ofType) : ref;
}

export interface Generation {
  schema: Introspection;
  known: Known & {
    /** Global ids (`id`) of the tenant's rows, as PostGraphile encodes them. */
    nodeIds: readonly string[];
  };
  hostile: boolean;
  /** What the mutation acts on (`updateProductById` → Product): the table a `rowId` names. */
  subject?: string;
}

const MAX_DEPTH = 5;

/**
 * A value for an input type reference; `undefined` stands for "left out". Hostile runs put a wrong
 * value at any node, rarely at the argument itself (depth 0), so that most requests reach further.
 */
function inputValue(ref: TypeRef, generation: Generation, fieldName: string, depth: number): fc.Arbitrary<unknown> {
  const { hostile } = generation;
  const rare = depth === 0 ? 1 : 4;
  if (ref.kind === "NON_NULL") {
    const inner = inputValue(ref.ofType!, generation, fieldName, depth);
    return hostile ? fc.oneof({ weight: 40, arbitrary: inner }, { weight: rare, arbitrary: fc.constant(null) }) : inner;
  }
  const value = nullableValue(ref, generation, fieldName, depth);
  if (!hostile) return fc.oneof({ weight: 8, arbitrary: value }, { weight: 1, arbitrary: fc.constant(null) });
  return fc.oneof(
    { weight: 40, arbitrary: value },
    { weight: rare, arbitrary: fc.constant(null) },
    { weight: 2 * rare, arbitrary: hostileValue({ maxLength: 120_000 }) },
  );
}

function nullableValue(ref: TypeRef, generation: Generation, fieldName: string, depth: number): fc.Arbitrary<unknown> {
  if (depth > MAX_DEPTH) return fc.constant(null);
  if (ref.kind === "LIST") {
    const item = inputValue(ref.ofType!, generation, fieldName, depth + 1);
    // GraphQL takes a single value where a list goes.
    return fc.oneof({ weight: 5, arbitrary: fc.array(item, { maxLength: 3 }) }, { weight: 1, arbitrary: item });
  }
  const type = generation.schema.types.get(ref.name!);
  if (!type) return fc.constant(null);
  if (type.kind === "ENUM") {
    const names = (type.enumValues ?? []).map((value) => new EnumName(value.name));
    if (names.length === 0) return fc.constant(null);
    if (!generation.hostile) return fc.constantFrom(...names);
    const wrong = [...names.map((name) => name.name.toLowerCase()), "UNKNOWN_VALUE", "__proto__"];
    return fc.oneof(
      { weight: 5, arbitrary: fc.constantFrom(...names) },
      { weight: 1, arbitrary: fc.constantFrom(...wrong.map((name) => new EnumName(name)), "") },
    );
  }
  if (type.kind === "INPUT_OBJECT") return inputObject(type, generation, depth);
  return scalar(type.name, generation, fieldName);
}

function inputObject(type: IntrospectedType, generation: Generation, depth: number): fc.Arbitrary<unknown> {
  const fields = type.inputFields ?? [];
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of fields) record[field.name] = inputValue(field.type, generation, field.name, depth + 1);
  const required = fields
    .filter((field) => field.type.kind === "NON_NULL" && field.defaultValue === null)
    .map((field) => field.name);
  const base = fc.record(record, { requiredKeys: required });
  if (!generation.hostile) return base;
  const extra = fc
    .tuple(
      base,
      fc.constantFrom("__proto__", "constructor", "rowId", "tenantId", "id", "x"),
      fc.jsonValue({ maxDepth: 1 }),
    )
    .map(([value, key, added]) => ({ ...(value as object), [key]: added }));
  const missing = fc.tuple(base, fc.nat()).map(([value, n]) => {
    const copy = { ...(value as Record<string, unknown>) };
    delete copy[required[n % required.length]!];
    return copy;
  });
  return fc.oneof(
    { weight: 6, arbitrary: base },
    { weight: 1, arbitrary: extra },
    ...(required.length > 0 ? [{ weight: 1, arbitrary: missing }] : []),
  );
}

function scalar(name: string, generation: Generation, fieldName: string): fc.Arbitrary<unknown> {
  const { known, hostile } = generation;
  const pick = (fit: fc.Arbitrary<unknown>, wrong: fc.Arbitrary<unknown>) =>
    hostile ? fc.oneof({ weight: 3, arbitrary: fit }, { weight: 1, arbitrary: wrong }) : fit;
  const ids = knownIds(known, fieldName === "rowId" || fieldName === "id" ? generation.subject : fieldName);
  const uuids = ids.length > 0 ? [fc.constantFrom(...ids)] : [];
  switch (name) {
    case "UUID":
      return pick(fc.oneof(...uuids, ...uuids, fc.uuid()), fc.constantFrom(...UUID_EDGES));
    case "ID":
      return pick(
        known.nodeIds.length > 0 ? fc.constantFrom(...known.nodeIds) : fc.base64String(),
        fc.oneof(fc.base64String({ maxLength: 60 }), fc.constantFrom(...ids, "WyJFdmVudCJd", "bnVsbA==")),
      );
    case "Int":
      return pick(
        fc.oneof(fc.integer({ min: -5, max: 200 }), fc.integer()),
        fc.oneof(
          fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 1.5, "1", 2 ** 53 + 2),
          fc.constantFrom("NaN", "-0", "1e400").map((t) => new RawJson(t)),
        ),
      );
    case "Float":
      return pick(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.constantFrom("NaN", "Infinity", "-0").map((t) => new RawJson(t)),
      );
    case "Boolean":
      return pick(fc.boolean(), fc.constantFrom("true", 1, 0));
    case "Datetime":
      return pick(
        fc
          .date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true })
          .map((d) => d.toISOString()),
        fc.constantFrom(...DATE_WORDS),
      );
    case "BigFloat":
      return pick(
        fc.oneof(
          fc.integer({ min: -1000, max: 100_000 }).map((n) => (n / 100).toFixed(2)),
          fc.constantFrom("0", "1", "10", "0.01", "100"),
        ),
        fc.constantFrom(...NUMBER_WORDS),
      );
    case "BigInt":
      return pick(
        fc.oneof(
          fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
          ...(known.integers.length > 0 ? [fc.constantFrom(...known.integers.map(String))] : []),
        ),
        fc.constantFrom(...NUMBER_WORDS),
      );
    case "JSON":
      return pick(fc.jsonValue({ maxDepth: 3 }), hostileValue());
    case "Cursor":
      return pick(fc.base64String({ maxLength: 40 }), fc.string({ unit: "binary", maxLength: 40 }));
    default: {
      const named = namedStrings(fieldName, known);
      const fit = fc.oneof(
        fc.string({ maxLength: 30 }),
        fc.string({ unit: "grapheme", maxLength: 10 }),
        ...(named.length > 0 ? [fc.constantFrom(...named), fc.constantFrom(...named)] : []),
        ...(known.strings.length > 0 ? [fc.constantFrom(...known.strings)] : []),
      );
      return pick(fit, hostileValue({ maxLength: 120_000 }));
    }
  }
}

/** `{ a b c { d e } }`: the payload's leaves, and those of the objects it holds (no arguments, no Query). */
export function selectionOf(schema: Introspection, ref: TypeRef, depth = 0): string {
  const type = schema.types.get(named(ref).name!);
  if (!type?.fields) return "";
  const parts = ["__typename"];
  for (const field of type.fields) {
    if (field.args.length > 0) continue;
    const target = schema.types.get(named(field.type).name!);
    if (!target || target.name === schema.queryType) continue;
    if (target.kind === "SCALAR" || target.kind === "ENUM") parts.push(field.name);
    else if (target.kind === "OBJECT" && depth < 1 && !hasList(field.type)) {
      const inner = selectionOf(schema, field.type, depth + 1);
      if (inner) parts.push(`${field.name} ${inner}`);
    }
  }
  return `{ ${parts.join(" ")} }`;
}

function hasList(ref: TypeRef): boolean {
  return ref.kind === "LIST" || (ref.ofType !== null && hasList(ref.ofType));
}

/**
 * A GraphQL literal of a generated value: strings escaped as JSON does (which GraphQL reads alike,
 * a lone surrogate's escape excepted: a syntax error), enum values bare, NaN and deep nests as written.
 */
function literal(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (value instanceof EnumName) return /^[_A-Za-z]\w*$/.test(value.name) ? value.name : JSON.stringify(value.name);
  if (Array.isArray(value)) return `[${value.map((item) => literal(item)).join(", ")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([key, item]) => item !== undefined && /^[_A-Za-z]\w*$/.test(key));
    return `{${entries.map(([key, item]) => `${key}: ${literal(item)}`).join(", ")}}`;
  }
  if (typeof value === "number" && Object.is(value, -0)) return "-0";
  return JSON.stringify(value) ?? "null";
}

/** Requests for one Mutation field. */
export function graphqlCases(fieldName: string, generation: Omit<Generation, "hostile">): fc.Arbitrary<GraphqlCase> {
  return fc.oneof(
    { weight: 2, arbitrary: casesOf(fieldName, { ...generation, hostile: false }) },
    { weight: 3, arbitrary: casesOf(fieldName, { ...generation, hostile: true }) },
  );
}

function casesOf(fieldName: string, generation: Generation): fc.Arbitrary<GraphqlCase> {
  const { schema } = generation;
  generation = { ...generation, subject: fieldName.replace(/^[a-z]+/, "").replace(/ById$/, "") };
  const field = schema.types.get(schema.mutationType)!.fields!.find((candidate) => candidate.name === fieldName)!;
  const selection = selectionOf(schema, field.type);
  const args: Record<string, fc.Arbitrary<unknown>> = {};
  for (const arg of field.args) args[arg.name] = inputValue(arg.type, generation, arg.name, 0);
  const declared = field.args.map((arg) => `$${arg.name}: ${typeName(arg.type)}`).join(", ");
  const passed = field.args.map((arg) => `${arg.name}: $${arg.name}`).join(", ");
  const call = `${fieldName}${passed ? `(${passed})` : ""} ${selection}`;
  const withVariables = `mutation Fuzz${declared ? `(${declared})` : ""} { ${call} }`;
  const required = field.args.filter((arg) => arg.type.kind === "NON_NULL").map((arg) => arg.name);
  const complete = fc.record(args, { requiredKeys: required });
  // Hostile runs leave a required argument out now and then.
  const values = generation.hostile
    ? fc.oneof({ weight: 15, arbitrary: complete }, { weight: 1, arbitrary: fc.record(args, { requiredKeys: [] }) })
    : complete;
  const asVariables = values.map((variables) => ({ query: withVariables, variables: jsonText(variables) }));
  if (!generation.hostile) return asVariables;
  const asLiterals = values.map((variables) => {
    const inline = Object.entries(variables)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => `${name}: ${literal(value)}`)
      .join(", ");
    return { query: `mutation Fuzz { ${fieldName}${inline ? `(${inline})` : ""} ${selection} }` };
  });
  const asBrokenBody = brokenJsonText(
    asVariables.map((c) => jsonText({ query: c.query, variables: new RawJson(c.variables) })),
  ).map((body) => ({ query: withVariables, body }));
  const wrongShapes = fc
    .tuple(asVariables, fc.constantFrom("array", "string", "deep", "operation"))
    .map(([c, shape]) => {
      const body =
        shape === "array"
          ? `{"query":${JSON.stringify(c.query)},"variables":[${c.variables}]}`
          : shape === "string"
            ? `{"query":${JSON.stringify(c.query)},"variables":${JSON.stringify(c.variables)}}`
            : shape === "deep"
              ? `{"query":${JSON.stringify(c.query)},"variables":{"input":${"[".repeat(10_000)}${"]".repeat(10_000)}}}`
              : `{"query":${JSON.stringify(c.query)},"operationName":"Other","variables":${c.variables}}`;
      return { query: c.query, body };
    });
  const otherHeaders = fc
    .tuple(asVariables, fc.option(fc.constantFrom(...ACCEPTS)), fc.option(fc.constantFrom(...CONTENT_TYPES)))
    .map(([c, accept, contentType]) => ({
      ...c,
      ...(accept === null ? {} : { accept }),
      ...(contentType === null ? {} : { contentType }),
      ...(contentType === "application/graphql" ? { body: c.query } : {}),
    }));
  return fc.oneof(
    { weight: 8, arbitrary: asVariables },
    { weight: 2, arbitrary: asLiterals },
    { weight: 1, arbitrary: asBrokenBody },
    { weight: 1, arbitrary: wrongShapes },
    { weight: 1, arbitrary: otherHeaders },
    {
      weight: 1,
      arbitrary: fc
        .tuple(asVariables, hostileHeaders({ authorization: false }))
        .map(([c, headers]) => ({ ...c, headers })),
    },
  );
}
