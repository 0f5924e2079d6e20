/**
 * STATEMENT_TIMEOUT_MS bounds the SQL time of every request: a request whose SQL runs longer is
 * cut by PostgreSQL and answered QUERY_TOO_COMPLEX (reason STATEMENT_TIMEOUT), not INTERNAL, and
 * the connection it held serves the next request.
 */
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestUser } from "../helpers/fixtures.ts";

let app: TestApp;
let member: TestUser;

beforeAll(async () => {
  app = await startTestApp({
    env: { STATEMENT_TIMEOUT_MS: "300" },
    // A query that is slow on purpose, visible to the API (the schema is read when the server starts).
    prepareDatabase: (db) =>
      db.ownerPool
        .query(`
        create function app_public.slow_probe(seconds double precision) returns integer
          language sql stable as $$ select 1 from pg_catalog.pg_sleep(seconds) $$;
        grant execute on function app_public.slow_probe(double precision) to ${db.urls.visitorRole};
      `)
        .then(() => undefined),
  });
  member = await createUser(app.db.ownerPool, await createTenant(app.db.ownerPool), "member");
});
afterAll(() => app.stop());

async function probe(seconds: number): Promise<{
  status: number;
  body: {
    data?: unknown;
    errors?: Array<{ message: string; extensions?: { code?: string; details?: { reason?: string } } }>;
  };
}> {
  const response = await fetch(`${app.url}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json",
      authorization: `Bearer ${member.token}`,
    },
    body: JSON.stringify({ query: "query ($s: Float!) { slowProbe(seconds: $s) }", variables: { s: seconds } }),
  });
  return { status: response.status, body: (await response.json()) as never };
}

test(
  "SQL running past STATEMENT_TIMEOUT_MS is QUERY_TOO_COMPLEX / STATEMENT_TIMEOUT, " + "and the server carries on",
  async () => {
    const slow = await probe(5);
    expect(slow.body.errors?.[0]?.extensions).toEqual({
      code: "QUERY_TOO_COMPLEX",
      details: { reason: "STATEMENT_TIMEOUT" },
    });
    expect(slow.body.errors?.[0]?.message).not.toMatch(/statement|cancel/i);
    // Parallel slow requests do not exhaust the pool: each is cut and its connection reused.
    const many = await Promise.all(Array.from({ length: 20 }, () => probe(5)));
    expect(new Set(many.map((answer) => answer.body.errors?.[0]?.extensions?.details?.reason))).toEqual(
      new Set(["STATEMENT_TIMEOUT"]),
    );
    const quick = await probe(0);
    expect(quick.body).toEqual({ data: { slowProbe: 1 } });
    expect((await fetch(`${app.url}/ready`)).status).toBe(200);
  },
);
