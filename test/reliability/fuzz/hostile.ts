/**
 * The value families the fuzzers draw from, as fast-check arbitraries: hostile strings (huge,
 * unicode edge cases, date words, number words, SQL and JSON shapes, prototype keys), hostile
 * numbers (NaN, ±Infinity and -0 written as JSON number tokens, which JSON itself cannot carry),
 * deep nesting, and wrong types. `RawJson` is a piece of JSON text written as it is, so a body can
 * hold what `JSON.stringify` would never write; `jsonText` serializes a value holding them.
 */
import fc from "fast-check";

/** JSON text written verbatim where a value goes: `NaN`, `-0`, `1e400`, 10,000 nested arrays. */
export class RawJson {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toJSON(): string {
    return `<raw ${this.text.length > 60 ? `${this.text.slice(0, 60)}… (${this.text.length} chars)` : this.text}>`;
  }
}

/** A GraphQL enum value: a string in JSON variables, a bare name in a GraphQL literal. */
export class EnumName {
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
  toJSON(): string {
    return this.name;
  }
}

/** JSON text of a value that may hold RawJson pieces (undefined properties are left out). */
export function jsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (value instanceof EnumName) return JSON.stringify(value.name);
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? "null" : jsonText(item))).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, item]) => item !== undefined);
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${jsonText(item)}`).join(",")}}`;
  }
  if (typeof value === "number" && Object.is(value, -0)) return "-0";
  return JSON.stringify(value) ?? "null";
}

/** `n` nested arrays, as text: `[[[…]]]`. */
export const deepArrays = (n: number) => "[".repeat(n) + "]".repeat(n);
/** `n` nested objects, as text: `{"a":{"a":…}}`. */
export const deepObjects = (n: number) => '{"a":'.repeat(n) + "1" + "}".repeat(n);

export const UNICODE_EDGES = [
  "\uD800", // lone high surrogate
  "\uDFFF", // lone low surrogate
  "a\uD83D", // an emoji cut in half
  "\uDE00b",
  "\u0000",
  "a\u0000b",
  "\u202Eevil\u202C", // right-to-left override
  "\u200F\u05E9\u05DC\u05D5\u05DD", // RTL mark and Hebrew
  "\u0627\u0644\u0633\u0644\u0627\u0645", // Arabic
  "e\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308\u0309\u030A", // stacked combining marks
  "\u0301", // a combining mark alone
  "👩‍👩‍👧‍👦", // a ZWJ family
  "🏳️‍🌈",
  "\uFEFF", // byte-order mark
  "\u200B", // zero-width space
  "\uFFFF",
  "\uFFFE",
  "\u{10FFFF}",
  "\r\n",
  "\t\v\f\b",
  "\u0085\u2028\u2029", // next line, line and paragraph separators
  "İıß", // case folding that changes length
  "１２３", // full-width digits
  "٣", // Arabic-Indic digit
  "²",
  " ",
  "",
  "\\",
  '"',
  "%00",
  "%",
  "../../etc/passwd",
];

export const DATE_WORDS = [
  "infinity",
  "-infinity",
  "epoch",
  "now",
  "allballs",
  "today",
  "tomorrow",
  "yesterday",
  "0000-01-01",
  "0001-01-01T00:00:00Z",
  "1970-01-01T00:00:00Z",
  "9999-12-31T23:59:59.999999Z",
  "294277-01-01T00:00:00Z",
  "-0001-01-01",
  "4714-11-24 BC",
  "2026-02-30T00:00:00Z",
  "2026-11-23T10:00:00+25:00",
  "2026-11-23T24:00:00Z",
  "2026-11-23T10:00:00.1234567890Z",
  "J2451187",
  "1e10",
];

export const NUMBER_WORDS = [
  "NaN",
  "nan",
  "Infinity",
  "-Infinity",
  "inf",
  "-0",
  "1e309",
  "-1e309",
  "1e-400",
  "0x10",
  "1_000",
  " 1",
  "1 ",
  "+1",
  "00001",
  ".5",
  "5.",
  "-",
  ".",
  "9223372036854775807",
  "9223372036854775808",
  "-9223372036854775809",
  "99999999999999999999999999999999999999999999",
  "1.000000000000000000000000000000000000000001",
  "0.00000000000000000000000000000000000000001",
];

export const SQL_SHAPES = [
  "' or '1'='1",
  "'; drop table app_public.users; --",
  "\\'",
  "$$",
  "$tag$ x $tag$",
  "%_%",
  "E'\\\\x00'",
  "1; select 1",
  "') or true --",
  "::text",
  "null",
  "NULL",
  "true",
  "default",
  "*",
  "(select 1)",
  "a\\",
];

export const JSON_SHAPES = [
  "{}",
  "[]",
  '{"$ne":null}',
  '{"__proto__":{"polluted":true}}',
  "[null]",
  '"',
  "{",
  "1e1000",
];

/** Keys a careless parser lets reach an object's prototype. */
export const PROTOTYPE_KEYS = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf"];

export const UUID_EDGES = [
  "00000000-0000-0000-0000-000000000000",
  "ffffffff-ffff-ffff-ffff-ffffffffffff",
  "FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF",
  "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
  "a0eebc999c0b4ef8bb6d6bb9bd380a11", // PostgreSQL takes it; the API's UUID types should not
  "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
  "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 ",
  "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
];

/** A long string of one of several shapes; the lengths cross the 100 kB body limit. */
export function hugeString(maxLength = 120_000): fc.Arbitrary<string> {
  const lengths = [maxLength, ...[300, 1_100, 5_000, 70_000, 120_000].filter((n) => n < maxLength)];
  return fc
    .tuple(fc.constantFrom(...lengths), fc.constantFrom("a", "€", "😀", "\u0000", "'", "e\u0301"))
    .map(([length, unit]) => unit.repeat(Math.max(1, Math.floor(length / unit.length))));
}

/** Strings of every hostile family, and random strings of any UTF-16 code units. */
export function hostileString(options: { maxLength?: number } = {}): fc.Arbitrary<string> {
  const { maxLength = 120_000 } = options;
  return fc.oneof(
    fc.constantFrom(...UNICODE_EDGES),
    fc.constantFrom(...DATE_WORDS),
    fc.constantFrom(...NUMBER_WORDS),
    fc.constantFrom(...SQL_SHAPES),
    fc.constantFrom(...JSON_SHAPES),
    fc.constantFrom(...PROTOTYPE_KEYS),
    fc.constantFrom(...UUID_EDGES),
    fc.string({ unit: "binary", maxLength: 40 }),
    fc.string({ unit: "grapheme", maxLength: 20 }),
    fc.string({ maxLength: 20 }),
    hugeString(maxLength),
  );
}

/** Numbers a JSON body can carry as tokens, including those JSON.stringify cannot write. */
export function hostileNumber(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom(0, 1, -1, 0.5, -0.5, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 2 ** 53 + 2, 2 ** 63, 1e308, -1e308),
    fc
      .constantFrom(...["NaN", "Infinity", "-Infinity", "-0", "1e400", "-1e400", "1e-400", "0.0", "1E2"])
      .map((token) => new RawJson(token)),
    fc.integer(),
    fc.double(),
  );
}

/** Wrong types: every JSON type, a deep nest, prototype-shaped objects. */
export function wrongType(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom(null, true, false, [], {}, [[]], [null], { "": "" }),
    fc.constantFrom(...PROTOTYPE_KEYS).map((key) => new RawJson(`{${JSON.stringify(key)}:{"polluted":true}}`)),
    fc.constantFrom(10, 100, 10_000).map((n) => new RawJson(deepArrays(n))),
    fc.constantFrom(10, 1_000).map((n) => new RawJson(deepObjects(n))),
    fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
    fc.dictionary(hostileString({ maxLength: 300 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  );
}

/** Any hostile value: a hostile string, a hostile number or a wrong type. */
export function hostileValue(options: { maxLength?: number } = {}): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 3, arbitrary: hostileString(options) },
    { weight: 2, arbitrary: hostileNumber() },
    { weight: 2, arbitrary: wrongType() },
  );
}

/** A text body that is not quite JSON: cut short, bare tokens, deep nests, garbage. */
export function brokenJsonText(valid: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof(
    fc.tuple(valid, fc.nat()).map(([text, at]) => text.slice(0, text.length > 1 ? at % text.length : 0)),
    fc.constantFrom("NaN", "Infinity", "-Infinity", "-0", "1e400", "null", '"x"', "[]", "true", "", " ", "\u0000"),
    fc.constantFrom(deepArrays(10_000), deepObjects(10_000), deepArrays(50_000)),
    fc.constantFrom('{"a":1,"a":2}', '{"a":1,}', "{'a':1}", '{"a":NaN}', '{"a":undefined}', "\uFEFF{}", "[1,2"),
    fc.string({ unit: "binary", maxLength: 60 }),
  );
}

/** Accept headers: what /graphql serves, what it does not, and what is not a list of media types. */
export const ACCEPTS = [
  "application/graphql-response+json",
  "application/graphql-response+json, application/json;q=0.9",
  "text/html",
  "*/*",
  "*/*;q=0",
  "text/event-stream",
  "multipart/mixed",
  "application/json;q=2",
  "application/json;q=0",
  "application/json;",
  ",application/json",
  "a/b/c",
  ";;",
  "",
  'application/json;a="\\"',
  'application/json;a="x\\",text/html',
  'application/json;a="ok"',
];

/**
 * Headers a careless or hostile client adds (values Node will send: visible ASCII and Latin-1).
 * `authorization` is only added where the route asks for no caller.
 */
export function hostileHeaders(options: { authorization: boolean }): fc.Arbitrary<Record<string, string>> {
  const header = fc.oneof(
    fc.constantFrom(...ACCEPTS).map((value) => ["accept", value]),
    fc
      .constantFrom("gzip", "deflate", "br", "identity", "gzip, gzip", "x-unknown", "", "GZIP")
      .map((value) => ["content-encoding", value]),
    fc
      .constantFrom("a".repeat(200), "../", "<script>", "", "id with spaces", "caf\u00e9")
      .map((value) => ["x-request-id", value]),
    fc.constantFrom("1.2.3.4, ::1", "garbage", "", "::ffff:127.0.0.1").map((value) => ["x-forwarded-for", value]),
    fc.constantFrom("text/plain", "application/json; charset=utf-16", "").map((value) => ["content-type", value]),
    ...(options.authorization
      ? [
          fc
            .constantFrom("Bearer ", "Bearer a.b.c", "Basic Zm9vOmJhcg==", `Bearer ${"x".repeat(4000)}`, "bearer")
            .map((value) => ["authorization", value]),
        ]
      : []),
  ) as fc.Arbitrary<[string, string]>;
  return fc.array(header, { minLength: 1, maxLength: 3 }).map((pairs) => Object.fromEntries(pairs));
}
