/**
 * The access matrix through GraphQL, mutations (graphqlMatrix.ts): every Mutation field of the
 * running server's schema, as anonymous and as each built-in role of tenant A, with tenant B's ids
 * in its id arguments — no call changes B's rows or answers B's data, every error code is
 * documented, B's ids answer as ids that exist nowhere, and afterwards no row points at another
 * tenant's. `ACCESS_MATRIX_PRINT=1` prints the counts, the codes answered and the calls answered
 * without an error.
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
  "no mutation, as any role of tenant A, changes or tells tenant B's data",
  async () => {
    const result = await runGraphqlMatrix(app, a, b, { only: "mutations" });
    if (process.env.ACCESS_MATRIX_PRINT) {
      const { counts, mutationCodes, nullAnswers } = result;
      process.stdout.write(`${JSON.stringify({ counts, mutationCodes })}\n${nullAnswers.join("\n")}\n`);
    }
    expect(result.problems).toEqual([]);
  },
  MATRIX_TIMEOUT_MS,
);
