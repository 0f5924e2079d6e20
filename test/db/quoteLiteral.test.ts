/**
 * Settings reach PostgreSQL as literals in the request's first message (`settingsOnly`): each
 * string must come back from the server exactly, whatever it holds, written as pg writes it.
 */
import pg from "pg";
import { quoteLiteral, settingsOnly } from "../../src/platform/db/pools.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

const TRICKY = [
  "",
  "plain",
  "it's",
  "''",
  "back\\slash",
  "\\'",
  "'\\",
  '{"a":"q\\"uote","b":"\\\\"}',
  "line\nbreak\ttab\r",
  "🎉 مرحبا e\u0301 \u2028",
  "$$ dollar $tag$",
  "'; select pg_sleep(10); --",
];

test("a literal is written as pg.escapeLiteral writes it and read back unchanged", async () => {
  for (const value of TRICKY) expect(quoteLiteral(value)).toBe(pg.escapeLiteral(value));
  const client = new pg.Client({ connectionString: db.urls.ownerUrl });
  await client.connect();
  try {
    const select = TRICKY.map((value, i) => `${quoteLiteral(value)} as v${i}`).join(", ");
    const { rows } = await client.query<Record<string, string>>(`select ${select}`);
    expect(TRICKY.map((_, i) => rows[0]![`v${i}`])).toEqual(TRICKY);
  } finally {
    await client.end();
  }
});

test("settings holding quotes and backslashes are set as given, for the transaction only", async () => {
  const settings = { "jwt.claims.a": "it's \\ here", "jwt.claims.b": '{"x":"\\"y\\""}', "jwt.claims.c": undefined };
  const client = new pg.Client({ connectionString: db.urls.ownerUrl });
  await client.connect();
  try {
    await client.query(`begin; ${settingsOnly(settings)}`);
    const { rows } = await client.query<{ a: string; b: string; c: string | null }>(
      "select current_setting('jwt.claims.a') a, current_setting('jwt.claims.b') b," +
        " current_setting('jwt.claims.c', true) c",
    );
    expect(rows).toEqual([{ a: "it's \\ here", b: '{"x":"\\"y\\""}', c: null }]);
    await client.query("commit");
    const after = await client.query<{ a: string | null }>("select current_setting('jwt.claims.a', true) a");
    expect(after.rows[0]!.a ?? "").toBe("");
  } finally {
    await client.end();
  }
});
