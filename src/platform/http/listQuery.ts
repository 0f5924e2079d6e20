/**
 * The query string of the route table, and the one list-query format of every REST list route:
 *
 *   GET /api/bot/products?limit=20&cursor=<opaque>&sort=-createdAt,name&filter[status]=active&filter[price][gte]=10
 *
 * - `limit`: 1–100 (default 20; `maxLimit` may lower the cap); digits only ("1e3", "0", "101" are refused);
 * - `cursor`: opaque, from the previous page's `nextCursor` (base64url of a small JSON; `encodeCursor`);
 * - `sort`: comma-separated fields of the route's whitelist, `-` for descending;
 * - `filter[field]=value`, nested with more brackets (`filter[price][gte]=10`); a repeated key gives an
 *   array; the route's zod object says which filters exist (unknown ones are refused).
 *
 * Any other key, a key given twice where one value is expected, or a malformed bracket key is 400
 * VALIDATION_FAILED with `details.fields` naming each key. The answer is `listResponse(item)`:
 * `{ items, nextCursor }`, nextCursor null on the last page.
 *
 * Express 5's query parser is "simple" (no brackets), so the raw query string is parsed here.
 */
import { z } from "zod";
import { AppError } from "../errors.ts";

/** A value of the parsed query: a string, repeated strings, or brackets' nested keys. */
export type QueryValue = string | string[] | QueryObject;
export interface QueryObject {
  [key: string]: QueryValue;
}

export const LIST_DEFAULT_LIMIT = 20;
export const LIST_MAX_LIMIT = 100;
/** Bounds of what a query string may hold, so that parsing stays cheap. */
const MAX_KEYS = 100;
const MAX_DEPTH = 4;
/**
 * A cursor carries the last row's sort value: a 200-character name of 4-byte characters is 800
 * bytes of JSON, 1,200 where JSON escapes them, about 1,700 characters of base64url with the rest.
 */
export const LIST_MAX_CURSOR_LENGTH = 4096;

/** Refusal of a request's input, naming each bad field (the shape every REST 400 uses). */
export function invalidFields(fields: Record<string, string>, message = "Some fields are not valid."): AppError {
  return new AppError("VALIDATION_FAILED", message, { details: { fields } });
}

const KEY = /^([^[\]]+)((?:\[[^[\]]+\])*)$/;

/**
 * Parses a raw query string (without its `?`) qs-style: `a[b][c]=v` nests, a repeated key gives an
 * array. Objects have no prototype, so no key can reach Object.prototype.
 */
export function parseQueryString(search: string): QueryObject {
  const result: QueryObject = Object.create(null);
  const bad = fieldRecord();
  let count = 0;
  for (const [key, value] of new URLSearchParams(search)) {
    if (++count > MAX_KEYS) throw invalidFields({ query: `at most ${MAX_KEYS} keys` });
    const match = KEY.exec(key);
    if (!match) {
      bad[key] = "is not a valid key (name or name[key][key]…)";
      continue;
    }
    const path = [match[1]!, ...[...match[2]!.matchAll(/\[([^[\]]+)\]/g)].map((m) => m[1]!)];
    if (path.length > MAX_DEPTH) {
      bad[key] = `nests deeper than ${MAX_DEPTH} levels`;
      continue;
    }
    if (!setPath(result, path, value)) bad[key] = "mixes a value and nested keys";
  }
  if (Object.keys(bad).length > 0) throw invalidFields(bad, "The query string is not valid.");
  return result;
}

function setPath(target: QueryObject, path: string[], value: string): boolean {
  let node = target;
  for (const segment of path.slice(0, -1)) {
    const next = node[segment];
    if (next === undefined) node = node[segment] = Object.create(null) as QueryObject;
    else if (typeof next === "string" || Array.isArray(next)) return false;
    else node = next;
  }
  const last = path[path.length - 1]!;
  const existing = node[last];
  if (existing === undefined) node[last] = value;
  else if (typeof existing === "string") node[last] = [existing, value];
  else if (Array.isArray(existing)) existing.push(value);
  else return false;
  return true;
}

/** A record for field names from a client: no prototype, so `__proto__` is a key like any other. */
export function fieldRecord(): Record<string, string> {
  return Object.create(null) as Record<string, string>;
}

/**
 * Keys of the query that the schema's output dropped (a nested z.object strips what it does not
 * know): each is refused as unknown, at any depth.
 */
export function droppedKeys(raw: QueryValue, parsed: unknown, path: string[]): string[][] {
  if (typeof raw !== "object" || Array.isArray(raw)) return [];
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return [];
  const dropped: string[][] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (!Object.hasOwn(parsed, key)) dropped.push([...path, key]);
    else dropped.push(...droppedKeys(value, (parsed as Record<string, unknown>)[key], [...path, key]));
  }
  return dropped;
}

/** `filter[price][gte]`: how a client wrote the key of a path. */
export function queryKeyName(path: readonly PropertyKey[]): string {
  const [first, ...rest] = path.map(String);
  return `${first ?? "query"}${rest.map((segment) => `[${segment}]`).join("")}`;
}

/**
 * Whether `value` is a timestamptz as PostgreSQL prints it, as text (`2026-12-04 15:10:59.123+00`)
 * or in JSON (`2026-12-04T15:10:59.123+00:00`), of a real calendar instant: a cursor's time.
 * PostgreSQL itself would read `24:00:00` as the next day and `:60` as the next minute, and refuse
 * `02-30` with an error that names no field.
 */
export function isPrintedTimestamp(value: string): boolean {
  const parts = PRINTED_TIMESTAMP.exec(value);
  if (!parts) return false;
  const [year, month, day] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return year >= 1 && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

// The UTC offset as PostgreSQL prints and reads one: at most 15:59:59 either way.
const PRINTED_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[ T]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?[+-](0\d|1[0-5])(:[0-5]\d){0,2}$/;

/** base64url of the JSON of a small value: the opaque `nextCursor` of a page. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}

/**
 * A cursor's list and sort (its `s`) against the page asked for: one made for another list or sort
 * (another chat's messages, the other direction) is 400 VALIDATION_FAILED, its position meaningless here.
 */
export function assertCursorOf(cursor: { s: string } | null, listName: string): void {
  if (cursor && cursor.s !== listName) throw invalidFields({ cursor: "was made for another list or sort" });
}

/** The value of a cursor made by `encodeCursor`, checked by `schema`; anything else is 400 VALIDATION_FAILED. */
export function decodeCursor<T>(cursor: string, schema: z.ZodType<T>): T {
  const refused = () => invalidFields({ cursor: "is not a cursor this list gave" });
  if (cursor.length > LIST_MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw refused();
  const bytes = Buffer.from(cursor, "base64url");
  // Non-canonical encodings (stray trailing bits) are not ours either.
  if (bytes.toString("base64url") !== cursor) throw refused();
  let value: unknown;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    value = JSON.parse(text);
    // As `encodeCursor` writes it, or not ours: a key given twice (the last read), spaces, escapes.
    if (JSON.stringify(value) !== text) throw refused();
  } catch {
    throw refused();
  }
  const parsed = schema.safeParse(value);
  // Its keys in the schema's order, as the list wrote them (not another order of the same keys).
  if (!parsed.success || encodeCursor(parsed.data) !== cursor) throw refused();
  return parsed.data;
}

export type SortDirection = "asc" | "desc";
export interface SortKey<Field extends string> {
  field: Field;
  direction: SortDirection;
}

export interface ListQueryOptions<
  Field extends string,
  Filter extends z.ZodObject = z.ZodObject<Record<never, never>>,
  Cursor extends z.ZodType = z.ZodType<unknown>,
> {
  /** The fields a client may sort by. */
  sort: readonly Field[];
  /** Sort when none is given, e.g. "-createdAt" (same syntax as the query). */
  defaultSort?: string;
  /** Allowed filters: values arrive as strings (string[] when repeated) — use z.coerce, z.enum… */
  filter?: Filter;
  /** The shape of this list's cursor payload (checked when a cursor comes back). */
  cursor?: Cursor;
  /** Lower cap than 100 for this list. */
  maxLimit?: number;
  /** How many fields `sort` may name (default: every sortable field); keyset lists sort by one. */
  maxSortKeys?: number;
}

export interface ListQuery<Field extends string, FilterOut, CursorOut> {
  limit: number;
  /** The decoded cursor of the page asked for; null for the first page. */
  cursor: CursorOut | null;
  sort: Array<SortKey<Field>>;
  filter: FilterOut;
}

/** A route's list query: the options (for the OpenAPI document) and the parser. */
export interface ListQuerySpec<Field extends string = string, FilterOut = unknown, CursorOut = unknown> {
  readonly kind: "list";
  readonly sortFields: readonly Field[];
  readonly defaultSort?: string;
  readonly maxLimit: number;
  readonly maxSortKeys: number;
  readonly filter?: z.ZodObject;
  parse(query: QueryObject): ListQuery<Field, FilterOut, CursorOut>;
}

/** Declares a route's list query (limit, cursor, sort, filter). */
export function listQuery<
  const Field extends string,
  Filter extends z.ZodObject = z.ZodObject<Record<never, never>>,
  Cursor extends z.ZodType = z.ZodType<unknown>,
>(options: ListQueryOptions<Field, Filter, Cursor>): ListQuerySpec<Field, z.output<Filter>, z.output<Cursor>> {
  const maxLimit = Math.min(options.maxLimit ?? LIST_MAX_LIMIT, LIST_MAX_LIMIT);
  const filterSchema = (options.filter ?? z.object({})).strict();
  const cursorSchema = options.cursor ?? z.unknown();
  const defaultSort = options.defaultSort ? parseSort(options.defaultSort, options.sort) : [];
  if (typeof defaultSort === "string") throw new Error(`defaultSort ${options.defaultSort}: ${defaultSort}`);
  return {
    kind: "list",
    sortFields: options.sort,
    defaultSort: options.defaultSort,
    maxLimit,
    maxSortKeys: options.maxSortKeys ?? options.sort.length,
    filter: filterSchema,
    parse(query) {
      const bad = fieldRecord();
      for (const key of Object.keys(query))
        if (!["limit", "cursor", "sort", "filter"].includes(key)) bad[key] = "is not a parameter of this route";
      const single = (key: string): string | undefined => {
        const value = query[key];
        if (value === undefined || typeof value === "string") return value;
        bad[key] = Array.isArray(value) ? "is given more than once" : "takes one value, not nested keys";
        return undefined;
      };
      const rawLimit = single("limit");
      let limit = Math.min(LIST_DEFAULT_LIMIT, maxLimit);
      if (rawLimit !== undefined) {
        limit = /^[0-9]{1,4}$/.test(rawLimit) ? Number(rawLimit) : Number.NaN;
        if (!(limit >= 1 && limit <= maxLimit)) bad.limit = `must be a whole number from 1 to ${maxLimit}`;
      }
      const rawCursor = single("cursor");
      let cursor: z.output<Cursor> | null = null;
      if (rawCursor !== undefined) {
        try {
          cursor = decodeCursor(rawCursor, cursorSchema) as z.output<Cursor>;
        } catch {
          bad.cursor = "is not a cursor this list gave";
        }
      }
      const rawSort = single("sort");
      let sort = defaultSort;
      if (rawSort !== undefined) {
        const parsed = parseSort(rawSort, options.sort);
        const most = options.maxSortKeys ?? options.sort.length;
        if (typeof parsed === "string") bad.sort = parsed;
        else if (parsed.length > most) bad.sort = most === 1 ? "sorts by one field" : `sorts by at most ${most} fields`;
        else sort = parsed;
      }
      let filter = {} as z.output<Filter>;
      const rawFilter = query.filter ?? {};
      if (typeof rawFilter === "string" || Array.isArray(rawFilter)) bad.filter = "is written filter[field]=value";
      else {
        const parsed = filterSchema.safeParse(rawFilter);
        if (!parsed.success) Object.assign(bad, issueFields(parsed.error, ["filter"]));
        else {
          filter = parsed.data as z.output<Filter>;
          for (const path of droppedKeys(rawFilter, parsed.data, ["filter"]))
            bad[queryKeyName(path)] = "is not allowed here";
        }
      }
      if (Object.keys(bad).length > 0) throw invalidFields(bad);
      return { limit, cursor, sort, filter };
    },
  };
}

function parseSort<Field extends string>(raw: string, allowed: readonly Field[]): Array<SortKey<Field>> | string {
  const keys: Array<SortKey<Field>> = [];
  for (const part of raw.split(",")) {
    const field = part.startsWith("-") ? part.slice(1) : part;
    if (!allowed.includes(field as Field)) return `sorts by ${allowed.join(", ") || "nothing"} (- for descending)`;
    if (keys.some((key) => key.field === field)) return `names ${field} twice`;
    keys.push({ field: field as Field, direction: part.startsWith("-") ? "desc" : "asc" });
  }
  return keys;
}

/** `a.b.0`: how identity's body fields are named (`details.fields` keys), "input" for the whole body. */
export function bodyKeyName(path: readonly PropertyKey[]): string {
  // The body as a whole is "input"; a key written as "" is named "", as the client wrote it.
  return path.length === 0 ? "input" : path.map(String).join(".");
}

/**
 * zod issues as `details.fields`: each key as the client wrote it (`filter[status]` in a query,
 * `address.city` in a body). An unknown key is reported under its own name.
 */
export function issueFields(
  error: z.ZodError,
  prefix: readonly PropertyKey[] = [],
  nameOf: (path: readonly PropertyKey[]) => string = queryKeyName,
): Record<string, string> {
  const fields = fieldRecord();
  // A field's first issue is its message: a later one may judge a value of the wrong type by rules
  // meant for the right one (zod reports an array given for a string as "expected array to have >=16 items").
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) fields[nameOf([...prefix, ...issue.path, key])] ??= "is not allowed here";
    } else {
      fields[nameOf([...prefix, ...issue.path])] ??= issue.message;
    }
  }
  return fields;
}

/** The answer of a list route: a page of items and the cursor of the next page (null on the last). */
export function listResponse<Item extends z.ZodType>(item: Item) {
  return z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().describe("Pass as `cursor` for the next page; null on the last page."),
  });
}
