/**
 * DATABASE_PREPARED_STATEMENTS=false: a pool's connections never prepare a named statement (a
 * transaction pooler such as PgBouncer 1.18 would run the next transaction on another server
 * connection, where the name is unknown or taken). A named query still runs, unnamed; by default
 * the name is kept. The whole topology through a real PgBouncer: test/reliability/scaling/.
 */
import type pg from "pg";
import { newPool, statementName } from "../../src/platform/db/pools.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

/** Runs a named query twice on the pool's one connection; the statements that connection holds. */
async function preparedAfterNamedQueries(pool: pg.Pool): Promise<string[]> {
  try {
    for (let i = 0; i < 2; i++) {
      const { rows } = await pool.query({ name: "tessera_answer", text: "select $1::int + 1 as n", values: [41] });
      expect(rows).toEqual([{ n: 42 }]);
    }
    const { rows } = await pool.query<{ name: string }>("select name from pg_prepared_statements order by name");
    return rows.map((row) => row.name);
  } finally {
    await pool.end();
  }
}

test("with preparedStatements false a named query runs unnamed", async () => {
  const pool = newPool({ connectionString: db.urls.ownerUrl, max: 1 }, undefined, "test", {
    preparedStatements: false,
  });
  expect(await preparedAfterNamedQueries(pool)).toEqual([]);
});

test("by default the statement is prepared once and kept by its connection", async () => {
  const pool = newPool({ connectionString: db.urls.ownerUrl, max: 1 }, undefined, "test");
  expect(await preparedAfterNamedQueries(pool)).toEqual(["tessera_answer"]);
});

test("statementName: one name per text, a different name for a different text", () => {
  const text = "select $1::int + 1 as n";
  expect(statementName(text)).toBe(statementName(`select $1::int + 1 as n`));
  expect(statementName(text)).toMatch(/^tessera_[0-9a-f]{24}$/);
  expect(statementName(`${text} -- sorted`)).not.toBe(statementName(text));
});
