/**
 * The four paths `npm run bench:peers` measures, as each server is asked for them: Tessera's
 * GraphQL or REST request, V4's GraphQL request for the same rows (aliases give Tessera's field
 * names where V4 names them otherwise), and the hand-written server's route. Also the statements
 * the hand-written server runs, and how answers are compared before measuring.
 */
import { EVENTS_QUERY } from "../queries.ts";

export type PathName = "events" | "catalog" | "currentUser" | "joinEvent";
export type ServerName = "handwritten" | "v4" | "tessera";

/** How one server is asked for a path: GraphQL (POST) or a plain GET. */
export interface Ask {
  method: "GET" | "POST";
  path: string;
  /** The GraphQL document (POST bodies carry it as `query`). */
  query?: string;
}

export interface PathSpec {
  name: PathName;
  title: string;
  /** Who asks: a member (Authorization: Bearer) or the bot (X-API-KEY, X-BOT-ID). */
  caller: "member" | "bot";
  asks: Record<ServerName, Ask>;
  /** What must be equal in the three answers (rows that differ per request are reduced to their shape). */
  digest(server: ServerName, body: unknown): unknown;
}

export const CURRENT_USER_QUERY = "{ currentUser { rowId username email createdAt } }";
const JOIN_MUTATION =
  "mutation Join($eventId: UUID!) { joinEvent(input: { eventId: $eventId }) { participant { rowId status } } }";

/** A page of the catalog as V4 can ask for it: active products, oldest first, 20 and whether more follow. */
const V4_CATALOG_QUERY =
  "{ allProducts(condition: { active: true }, orderBy: [CREATED_AT_ASC, ID_ASC], first: 20) " +
  "{ nodes { id categoryId name description price currency stock kind createdAt } " +
  "pageInfo { hasNextPage endCursor } } }";

/** The hand-written server's statements (the events list is EVENTS_LIST_SQL; the catalog is productPage). */
export const CURRENT_USER_SQL = `select u.id as "rowId", u.username, u.email,
    to_char(u.created_at, 'YYYY-MM-DD"T"HH24:MI:SS.USTZH:TZM') as "createdAt"
  from app_public."current_user"() u where u.id is not null`;
export const JOIN_SQL = `select p.id as "rowId", p.status from app_public.join_event($1) p`;

/** A JSON value with every leaf replaced by its type: what "the same shape" means. */
export function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.length ? [shapeOf(value[0])] : [];
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, shapeOf(inner)]));
  }
  return value === null ? null : typeof value;
}

/** The value at a path of keys in parsed JSON, or undefined. */
function at(value: unknown, ...keys: string[]): unknown {
  let current = value;
  for (const key of keys) {
    current = current && typeof current === "object" ? (current as Record<string, unknown>)[key] : undefined;
  }
  return current;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** The value with every timestamp in one form (V4 drops trailing zeros of the microseconds). */
export function sameTimes(value: unknown): unknown {
  if (typeof value === "string" && TIMESTAMP.test(value))
    return value.replace(/(\.\d*?)0+(?=[Z+-])/, "$1").replace(/\.(?=[Z+-])/, "");
  if (Array.isArray(value)) return value.map(sameTimes);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, sameTimes(inner)]));
  }
  return value;
}

const idsOf = (list: unknown) => (Array.isArray(list) ? list.map((item) => at(item, "id")) : undefined);

export const PATHS: PathSpec[] = [
  {
    name: "events",
    title: "(a) events list with participant counts, as a member",
    caller: "member",
    asks: {
      handwritten: { method: "POST", path: "/events", query: EVENTS_QUERY },
      v4: {
        method: "POST",
        path: "/graphql",
        query: EVENTS_QUERY.replace("{ rowId ", "{ rowId: id "),
      },
      tessera: { method: "POST", path: "/graphql", query: EVENTS_QUERY },
    },
    digest: (_server, body) => sameTimes(body),
  },
  {
    name: "catalog",
    title: "(b) bot catalog page: REST GET /api/bot/catalog/products (V4: the same page through GraphQL)",
    caller: "bot",
    asks: {
      handwritten: { method: "GET", path: "/api/bot/catalog/products" },
      v4: { method: "POST", path: "/graphql", query: V4_CATALOG_QUERY },
      tessera: { method: "GET", path: "/api/bot/catalog/products" },
    },
    // The product ids of the page, in order, and whether a next page follows.
    digest: (server, body) => {
      if (server === "v4") {
        const page = at(body, "data", "allProducts");
        return { ids: idsOf(at(page, "nodes")), more: at(page, "pageInfo", "hasNextPage") };
      }
      return { ids: idsOf(at(body, "items")), more: typeof at(body, "nextCursor") === "string" };
    },
  },
  {
    name: "currentUser",
    title: "(c) currentUser, as a member",
    caller: "member",
    asks: {
      handwritten: { method: "POST", path: "/me", query: CURRENT_USER_QUERY },
      v4: { method: "POST", path: "/graphql", query: CURRENT_USER_QUERY.replace("{ rowId ", "{ rowId: id ") },
      tessera: { method: "POST", path: "/graphql", query: CURRENT_USER_QUERY },
    },
    digest: (_server, body) => sameTimes(body),
  },
  {
    name: "joinEvent",
    title: "(d) joinEvent mutation, a new (member, event) pair per request",
    caller: "member",
    asks: {
      handwritten: { method: "POST", path: "/join", query: JOIN_MUTATION },
      v4: { method: "POST", path: "/graphql", query: JOIN_MUTATION.replace("{ rowId ", "{ rowId: id ") },
      tessera: { method: "POST", path: "/graphql", query: JOIN_MUTATION },
    },
    digest: (_server, body) => shapeOf(body),
  },
];
