/**
 * The access matrix through GraphQL, queries (graphqlMatrix.ts): every root Query field of the
 * running server's schema, as anonymous and as each built-in role of tenant A, with tenant B's rows
 * as the bait — lists, lookups with B's keys, `node(id:)` with B's node ids — answers none of B's
 * data and only documented error codes. `ACCESS_MATRIX_PRINT=1` prints the request counts.
 */
import { startTestApp, type TestApp } from "../../helpers/app.ts";
import { MATRIX_TIMEOUT_MS } from "./expectations.ts";
import { runGraphqlMatrix } from "./graphqlMatrix.ts";
import { createSeededTenant, type SeededTenant } from "./seed.ts";

let app: TestApp;
let a: SeededTenant;
let b: SeededTenant;

beforeAll(async () => {
  app = await startTestApp({ openapiCheck: false });
  a = await createSeededTenant(app.db);
  b = await createSeededTenant(app.db);
});
afterAll(() => app.stop());

test(
  "no query, as any role of tenant A, answers tenant B's data",
  async () => {
    const result = await runGraphqlMatrix(app, a, b, { only: "queries" });
    if (process.env.ACCESS_MATRIX_PRINT) process.stdout.write(`${JSON.stringify(result.counts)}\n`);
    expect(result.problems).toEqual([]);
  },
  MATRIX_TIMEOUT_MS,
);
