/**
 * The data of the events read path (bench/events-read.ts, bench/profile.ts): a tenant with 40
 * upcoming events and their participants, one member with a live session, and the query.
 */
import { benchEvents, benchSession, benchTenant, benchUser, type Bench } from "./harness.ts";

export { EVENTS_QUERY } from "./queries.ts";

export interface EventsFixture {
  tenantId: string;
  userId: string;
  sessionId: string;
  token: string;
}

export async function eventsFixture(bench: Bench): Promise<EventsFixture> {
  const tenantId = await benchTenant(bench, "bench-events");
  const userId = await benchUser(bench, tenantId, "reader", "member");
  await benchEvents(bench, tenantId);
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
