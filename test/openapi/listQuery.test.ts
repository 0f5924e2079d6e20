/** The list-query format: limit, cursor, sort, filter[…]; every refusal is 400 VALIDATION_FAILED naming the key. */
import { z } from "zod";
import { AppError } from "../../src/platform/errors.ts";
import {
  decodeCursor,
  encodeCursor,
  listQuery,
  listResponse,
  parseQueryString,
} from "../../src/platform/http/listQuery.ts";

const products = listQuery({
  sort: ["createdAt", "name", "price"],
  defaultSort: "-createdAt",
  filter: z.object({
    status: z.enum(["active", "archived"]).optional(),
    name: z.string().max(50).optional(),
    tag: z.array(z.string()).optional(),
    price: z.object({ gte: z.coerce.number().optional(), lte: z.coerce.number().optional() }).optional(),
  }),
  cursor: z.object({ createdAt: z.string(), id: z.string() }),
});

const parse = (search: string) => products.parse(parseQueryString(search));

/** The `details.fields` of the refusal `run` throws (it must throw VALIDATION_FAILED). */
function refusal(run: () => unknown): Record<string, string> {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("VALIDATION_FAILED");
    expect((error as AppError).status).toBe(400);
    return ((error as AppError).details as { fields: Record<string, string> }).fields;
  }
  throw new Error("expected a refusal");
}

test("defaults: limit 20, no cursor, the default sort, no filter", () => {
  expect(parse("")).toEqual({ limit: 20, cursor: null, sort: [{ field: "createdAt", direction: "desc" }], filter: {} });
});

test("limit: whole numbers 1–100 only", () => {
  expect(parse("limit=1").limit).toBe(1);
  expect(parse("limit=100").limit).toBe(100);
  expect(parse("limit=007").limit).toBe(7);
  for (const bad of ["0", "101", "abc", "1e3", "-1", "1.5", " 5", "", "+5", "0x10", "99999"])
    expect(Object.keys(refusal(() => parse(`limit=${encodeURIComponent(bad)}`)))).toEqual(["limit"]);
  expect(refusal(() => parse("limit=1&limit=2"))).toEqual({ limit: "is given more than once" });
  expect(refusal(() => parse("limit[x]=1"))).toEqual({ limit: "takes one value, not nested keys" });
});

test("maxLimit lowers the cap", () => {
  const small = listQuery({ sort: [], maxLimit: 10 });
  expect(small.parse(parseQueryString("")).limit).toBe(10);
  expect(refusal(() => small.parse(parseQueryString("limit=11")))).toEqual({
    limit: "must be a whole number from 1 to 10",
  });
});

test("cursor: what encodeCursor gave comes back; anything else is refused", () => {
  const cursor = encodeCursor({ createdAt: "2025-01-01T00:00:00Z", id: "ü-1" });
  expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
  expect(parse(`cursor=${cursor}`).cursor).toEqual({ createdAt: "2025-01-01T00:00:00Z", id: "ü-1" });
  const tampered = [
    `${cursor}x`,
    cursor.slice(0, -2),
    `${cursor.slice(0, 5)}*${cursor.slice(6)}`,
    encodeCursor({ createdAt: 1, id: "x" }),
    encodeCursor("just a string"),
    Buffer.from("{not json").toString("base64url"),
    Buffer.from([0xff, 0xfe, 0x22]).toString("base64url"),
    "a".repeat(2000),
  ];
  for (const bad of tampered)
    expect(refusal(() => parse(`cursor=${encodeURIComponent(bad)}`))).toEqual({
      cursor: "is not a cursor this list gave",
    });
  expect(() => decodeCursor(`${cursor}=`, z.unknown())).toThrow(AppError);
});

test("sort: whitelisted fields, - for descending, each once", () => {
  expect(parse("sort=name,-price").sort).toEqual([
    { field: "name", direction: "asc" },
    { field: "price", direction: "desc" },
  ]);
  expect(refusal(() => parse("sort=secret"))).toEqual({ sort: "sorts by createdAt, name, price (- for descending)" });
  expect(refusal(() => parse("sort=name,-name"))).toEqual({ sort: "names name twice" });
  expect(Object.keys(refusal(() => parse("sort=")))).toEqual(["sort"]);
  expect(Object.keys(refusal(() => parse("sort=name,")))).toEqual(["sort"]);
  expect(Object.keys(refusal(() => parse("sort=--name")))).toEqual(["sort"]);
});

test("filter: nested keys, repeated keys as arrays, values decoded as UTF-8", () => {
  expect(
    parse(
      "filter[status]=active&filter[price][gte]=10&filter[price][lte]=99.5" +
        "&filter[tag]=a&filter[tag]=b&filter[name]=%E6%9D%B1%E4%BA%AC+%F0%9F%98%80",
    ).filter,
  ).toEqual({ status: "active", price: { gte: 10, lte: 99.5 }, tag: ["a", "b"], name: "東京 😀" });
  // Brackets percent-encoded are the same keys.
  expect(parse("filter%5Bstatus%5D=archived").filter).toEqual({ status: "archived" });
});

test("filter: unknown, malformed and badly typed filters are refused by name", () => {
  expect(refusal(() => parse("filter[owner]=me"))).toEqual({ "filter[owner]": "is not allowed here" });
  expect(refusal(() => parse("filter[price][eq]=1"))).toEqual({ "filter[price][eq]": "is not allowed here" });
  expect(refusal(() => parse("filter[名前]=x"))).toEqual({ "filter[名前]": "is not allowed here" });
  expect(Object.keys(refusal(() => parse("filter[status]=deleted")))).toEqual(["filter[status]"]);
  expect(Object.keys(refusal(() => parse("filter[status]=active&filter[status]=archived")))).toEqual([
    "filter[status]",
  ]);
  expect(Object.keys(refusal(() => parse("filter[price][gte]=cheap")))).toEqual(["filter[price][gte]"]);
  expect(refusal(() => parse("filter=active"))).toEqual({ filter: "is written filter[field]=value" });
  expect(Object.keys(refusal(() => parse("filter[price]=1&filter[price][gte]=2")))).toEqual(["filter[price][gte]"]);
  expect(Object.keys(refusal(() => parse("filter[status=active")))).toEqual(["filter[status"]);
  expect(Object.keys(refusal(() => parse("filter[]=x")))).toEqual(["filter[]"]);
  expect(Object.keys(refusal(() => parse("filter[a][b][c][d]=x")))).toEqual(["filter[a][b][c][d]"]);
});

test("unknown keys are refused, each named; several problems are reported together", () => {
  expect(refusal(() => parse("page=2&limit=0&sort=x"))).toEqual({
    page: "is not a parameter of this route",
    limit: "must be a whole number from 1 to 100",
    sort: "sorts by createdAt, name, price (- for descending)",
  });
  const fields = refusal(() => parse("__proto__[polluted]=1&filter[__proto__][x]=1"));
  expect(Object.entries(fields)).toEqual([
    ["__proto__", "is not a parameter of this route"],
    ["filter[__proto__]", "is not allowed here"],
  ]);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

test("too many keys are refused before they are parsed", () => {
  const search = Array.from({ length: 101 }, (_, i) => `filter[tag]=${i}`).join("&");
  expect(refusal(() => parse(search))).toEqual({ query: "at most 100 keys" });
});

test("listResponse: items and a nullable nextCursor", () => {
  const page = listResponse(z.object({ id: z.string() }));
  expect(page.parse({ items: [{ id: "a" }], nextCursor: null })).toEqual({ items: [{ id: "a" }], nextCursor: null });
  expect(page.safeParse({ items: [] }).success).toBe(false);
});

test("a default sort outside the whitelist is a programming error, refused at declaration", () => {
  expect(() => listQuery({ sort: ["name"], defaultSort: "-createdAt" })).toThrow(/defaultSort/);
});
