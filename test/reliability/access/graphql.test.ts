/**
 * The access matrix through GraphQL (graphqlMatrix.ts): every root Query and Mutation field of the
 * running server's schema, as anonymous and as each built-in role of tenant A, with tenant B's ids
 * as the bait — no answer holds B's data, no mutation changes B's rows, every error is documented,
 * and B's ids answer as ids that exist nowhere. `ACCESS_MATRIX_PRINT=1` prints the request counts
 * and the mutation calls answered without an error.
 */
import { startTestApp, type TestApp } from "../../helpers/app.ts";
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

test("no query or mutation, as any role of tenant A, reads or changes tenant B's data", async () => {
  const result = await runGraphqlMatrix(app, a, b);
  if (process.env.ACCESS_MATRIX_PRINT) {
    const { counts, mutationCodes, nullAnswers } = result;
    process.stdout.write(`${JSON.stringify({ counts, mutationCodes })}\n${nullAnswers.join("\n")}\n`);
  }
  expect(result.problems).toEqual([]);
}, 300_000);
