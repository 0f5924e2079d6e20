/**
 * The data of the events read path (bench/events-read.ts, bench/profile.ts): a tenant with 40
 * upcoming events and their participants, one member with a live session, and the query.
 */
import { benchSession, benchTenant, benchUser, type Bench } from "./harness.ts";

export const EVENTS_QUERY =
  "{ searchEvents(upcoming: true, first: 20, orderBy: STARTS_AT_ASC) " +
  "{ nodes { rowId name startsAt participantsCount } } }";

export interface EventsFixture {
  tenantId: string;
  userId: string;
  sessionId: string;
  token: string;
}

export async function eventsFixture(bench: Bench): Promise<EventsFixture> {
  const { owner } = bench;
  const tenantId = await benchTenant(bench, "bench-events");
  const userId = await benchUser(bench, tenantId, "reader", "member");
  if (!(await owner.query("select 1 from app_public.events where tenant_id = $1", [tenantId])).rowCount) {
    await owner.query(
      `insert into app_public.events (tenant_id, name, description, starts_at, ends_at, max_participants_count)
       select $1, 'Event ' || i, 'Description of event ' || i,
         now() + make_interval(days => i), now() + make_interval(days => i, hours => 2), 100
       from generate_series(1, 40) i`,
      [tenantId],
    );
    await owner.query(
      `with people as (insert into app_public.users (tenant_id, email, username)
         select $1, 'p' || i || '@example.test', 'p' || i from generate_series(1, 200) i returning id)
       insert into app_public.event_participants (tenant_id, event_id, user_id)
       select $1, e.id, p.id from app_public.events e, people p
       where e.tenant_id = $1 and (hashtext(e.id::text || p.id::text) % 4) = 0`,
      [tenantId],
    );
  }
  const { sessionId, token } = await benchSession(bench, userId, tenantId, "member");
  return { tenantId, userId, sessionId, token };
}

/** A wrk script that POSTs `query` to the URL it is given, with the token if any. */
export function wrkScript(query: string, token?: string): string {
  return [
    'wrk.method = "POST"',
    `wrk.body = ${JSON.stringify(JSON.stringify({ query }))}`,
    'wrk.headers["content-type"] = "application/json"',
    ...(token ? [`wrk.headers["authorization"] = "Bearer ${token}"`] : []),
    "",
  ].join("\n");
}
