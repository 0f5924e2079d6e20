/**
 * Keyset pages for the bot API's lists: ordered by one sort field, then the id, both in the sort's
 * direction; the cursor carries the sort it was made for and the last row's values, so a page
 * never skips or repeats a row when rows are added meanwhile.
 */
import { z } from "zod";
import {
  assertCursorOf,
  encodeCursor,
  invalidFields,
  isPrintedTimestamp,
  type SortKey,
} from "../../platform/http/listQuery.ts";
import { isStorableText } from "../../platform/http/unicode.ts";

/** A page's position: the list and sort it was made for, the last row's sort value and id. */
export const PageCursor = z.strictObject({ s: z.string().max(100), v: z.string().max(1000), id: z.uuid() });
export type PageCursor = z.infer<typeof PageCursor>;

/** How a sortable field is ordered in SQL: the expression and the type its cursor value casts to. */
export interface SortColumn {
  sql: string;
  type: "timestamptz" | "text" | "numeric";
}

/**
 * Whether a cursor's sort value is one PostgreSQL could have printed for the column (anything else
 * was not made here): a time as `isPrintedTimestamp` reads it; text that is well-formed Unicode
 * without NUL (a lone surrogate would reach the comparison as U+FFFD).
 */
const VALUE_CHECKS: Record<SortColumn["type"], (value: string) => boolean> = {
  timestamptz: isPrintedTimestamp,
  numeric: (value) => /^-?\d{1,16}(\.\d{1,2})?$/.test(value),
  text: isStorableText,
};

export interface PagePlan {
  /** `order by …` */
  orderBy: string;
  /** The text form of the sort value, selected as `sort_value` for the next cursor. */
  sortValue: string;
  /** The condition after the cursor (empty on the first page), using the given parameter numbers. */
  after(valueParam: number, idParam: number): string;
  cursorValues: [string, string] | undefined;
  /** Splits the limit + 1 rows the query returned into the page and the next cursor. */
  pageOf<Row extends { id: string; sort_value: string }, Item>(
    rows: Row[],
    toItem: (row: Row) => Item,
  ): { items: Item[]; nextCursor: string | null };
}

/** The plan of one page: `sort` has one key (the bot lists declare `maxSortKeys: 1`). */
export function pagePlan(
  list: string,
  query: { limit: number; sort: ReadonlyArray<SortKey<string>>; cursor: PageCursor | null },
  columns: Readonly<Record<string, SortColumn>>,
  idColumn: string,
): PagePlan {
  const { limit, cursor } = query;
  const key = query.sort[0]!;
  const column = columns[key.field];
  if (!column) throw invalidFields({ sort: `cannot sort by ${key.field}` });
  const direction = key.direction === "desc" ? "desc" : "asc";
  const sortName = `${list}:${key.field}:${direction}`;
  assertCursorOf(cursor, sortName);
  if (cursor && !VALUE_CHECKS[column.type](cursor.v)) throw invalidFields({ cursor: "is not a cursor this list gave" });
  const compare = direction === "desc" ? "<" : ">";
  return {
    orderBy: `order by ${column.sql} ${direction}, ${idColumn} ${direction}`,
    sortValue: `(${column.sql})::text`,
    after: (valueParam, idParam) =>
      cursor ? `and (${column.sql}, ${idColumn}) ${compare} ($${valueParam}::${column.type}, $${idParam}::uuid)` : "",
    cursorValues: cursor ? [cursor.v, cursor.id] : undefined,
    pageOf(rows, toItem) {
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      const next = rows.length > limit && last ? { s: sortName, v: last.sort_value, id: last.id } : undefined;
      return { items: page.map(toItem), nextCursor: next ? encodeCursor(next) : null };
    },
  };
}
