/**
 * The access matrix through GraphQL, queries (graphqlMatrix.ts): every root Query field of the
 * running server's schema, as anonymous and as each built-in role of tenant A, with tenant B's rows
 * as the bait — lists, lookups with B's keys, `node(id:)` with B's node ids — answers none of B's
 * data and only documented error codes. `ACCESS_MATRIX_PRINT=1` prints the request counts.
 */
import { MATRIX_TIMEOUT_MS } from "./expectations.ts";
import { runGraphqlMatrix, useMatrixTarget } from "./graphqlMatrix.ts";

const target = useMatrixTarget();

test(
  "no query, as any role of tenant A, answers tenant B's data",
  async () => {
    const result = await runGraphqlMatrix(target.app, target.a, target.b, { only: "queries" });
    if (process.env.ACCESS_MATRIX_PRINT) process.stdout.write(`${JSON.stringify(result.counts)}\n`);
    expect(result.problems).toEqual([]);
  },
  MATRIX_TIMEOUT_MS,
);
