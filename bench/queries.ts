/**
 * What the benchmarks' servers share and nothing more (a peer server process imports this, not the
 * harness, so its memory holds no set-up code): the events read path's GraphQL document and
 * statements, and pools whose pg is the project's own.
 */
import pg from "pg";

/** The events read path: a member's first page of upcoming events with participant counts. */
export const EVENTS_QUERY =
  "{ searchEvents(upcoming: true, first: 20, orderBy: STARTS_AT_ASC) " +
  "{ nodes { rowId name startsAt participantsCount } } }";
/** The statement PostGraphile runs for EVENTS_QUERY, answering the same JSON. */
export const EVENTS_LIST_SQL = `select e.id as "rowId", e.name,
    to_char(e.starts_at, 'YYYY-MM-DD"T"HH24:MI:SS.USTZH:TZM') as "startsAt",
    app_public.events_participants_count(e) as "participantsCount"
  from app_public.search_events(null, null, null, true) e order by e.starts_at limit 20`;

/** A pool of the project's pg (not bench/peers' copy, which only PostGraphile V4 uses). */
export function benchPool(connectionString: string, max: number): pg.Pool {
  return new pg.Pool({ connectionString, max });
}

export type BenchClient = pg.PoolClient;
