/**
 * The access matrix through GraphQL, mutations (graphqlMatrix.ts): every Mutation field of the
 * running server's schema, as anonymous and as each built-in role of tenant A, with tenant B's ids
 * in its id arguments — no call changes B's rows or answers B's data, every error code is
 * documented, B's ids answer as ids that exist nowhere, and afterwards no row points at another
 * tenant's. `ACCESS_MATRIX_PRINT=1` prints the counts, the codes answered and the calls answered
 * without an error.
 */
import { MATRIX_TIMEOUT_MS } from "./expectations.ts";
import { runGraphqlMatrix, useMatrixTarget } from "./graphqlMatrix.ts";

const target = useMatrixTarget();

test(
  "no mutation, as any role of tenant A, changes or tells tenant B's data",
  async () => {
    const result = await runGraphqlMatrix(target.app, target.a, target.b, { only: "mutations" });
    if (process.env.ACCESS_MATRIX_PRINT) {
      const { counts, mutationCodes, nullAnswers } = result;
      process.stdout.write(`${JSON.stringify({ counts, mutationCodes })}\n${nullAnswers.join("\n")}\n`);
    }
    expect(result.problems).toEqual([]);
  },
  MATRIX_TIMEOUT_MS,
);
