/**
 * STATEMENT_TIMEOUT_MS bounds the SQL time of every request: a request whose SQL runs longer is
 * cut by PostgreSQL and answered QUERY_TOO_COMPLEX (reason STATEMENT_TIMEOUT), not INTERNAL, and
 * the connection it held serves the next request.
 */
import type { AddressInfo } from "node:net";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/logger.ts";
import { createTesseraServer, type TesseraServer } from "../../src/server.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { createTenant, createUser, TEST_JWT_SECRET, type TestUser } from "../helpers/fixtures.ts";

let db: TestDatabase;
let server: TesseraServer;
let url: string;
let member: TestUser;

beforeAll(async () => {
  db = await createTestDatabase();
  // A query that is slow on purpose, visible to the API (the schema is read when the server starts).
  await db.ownerPool.query(`
    create function app_public.slow_probe(seconds double precision) returns integer
      language sql stable as $$ select 1 from pg_catalog.pg_sleep(seconds) $$;
    grant execute on function app_public.slow_probe(double precision) to ${db.urls.visitorRole};
  `);
  const config = { ...loadConfig({ APP_ENV: "test", JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: "silent", STATEMENT_TIMEOUT_MS: "300" }), database: db.urls };
  server = await createTesseraServer({ config, database: db.urls, logger: createLogger("silent") });
  await new Promise<void>((resolve) => server.httpServer.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.httpServer.address() as AddressInfo).port}`;
  member = await createUser(db.ownerPool, await createTenant(db.ownerPool), "member");
});
afterAll(async () => {
  await server.close();
  await db.drop();
});

async function probe(seconds: number): Promise<{ status: number; body: { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string; details?: { reason?: string } } }> } }> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json", authorization: `Bearer ${member.token}` },
    body: JSON.stringify({ query: "query ($s: Float!) { slowProbe(seconds: $s) }", variables: { s: seconds } }),
  });
  return { status: response.status, body: (await response.json()) as never };
}

test("SQL running past STATEMENT_TIMEOUT_MS is QUERY_TOO_COMPLEX / STATEMENT_TIMEOUT, and the server carries on", async () => {
  const slow = await probe(5);
  expect(slow.body.errors?.[0]?.extensions).toEqual({ code: "QUERY_TOO_COMPLEX", details: { reason: "STATEMENT_TIMEOUT" } });
  expect(slow.body.errors?.[0]?.message).not.toMatch(/statement|cancel/i);
  // Parallel slow requests do not exhaust the pool: each is cut and its connection reused.
  const many = await Promise.all(Array.from({ length: 20 }, () => probe(5)));
  expect(new Set(many.map((answer) => answer.body.errors?.[0]?.extensions?.details?.reason))).toEqual(new Set(["STATEMENT_TIMEOUT"]));
  const quick = await probe(0);
  expect(quick.body).toEqual({ data: { slowProbe: 1 } });
  expect((await fetch(`${url}/ready`)).status).toBe(200);
});
