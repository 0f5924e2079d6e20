/**
 * The access matrix through the database (matrix.ts): every table and view of app_public × role ×
 * tenant × command, attempted as that role and compared with the modules' expectations
 * (expectations/<module>.ts); any read or write of another tenant's rows fails, whatever they say.
 * `ACCESS_MATRIX_PRINT=1` prints the outcomes as expectations code (docs/access-matrix.md).
 */
import { MODULES } from "../../../src/modules/index.ts";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import { column } from "../../helpers/sql.ts";
import { COMMANDS, loadExpectations, MATRIX_TIMEOUT_MS, ROLES } from "./expectations.ts";
import { describeAttempts, runAccessMatrix } from "./matrix.ts";
import { createSeededTenant, type SeededTenant } from "./seed.ts";

let db: TestDatabase;
let a: SeededTenant;
let b: SeededTenant;

beforeAll(async () => {
  db = await createTestDatabase();
  a = await createSeededTenant(db);
  b = await createSeededTenant(db);
});
afterAll(() => db.drop());

test(
  "every table of app_public answers every role as its module expects, and nothing crosses tenants",
  async () => {
    const modules = MODULES.map((m) => m.name);
    const { loaded, missing } = await loadExpectations(modules);
    const result = await runAccessMatrix({ db, a, b, modules, expectations: loaded, missingFiles: missing });
    if (process.env.ACCESS_MATRIX_PRINT) {
      const counts = `${result.attempts.length} cells, ${result.pointerAttempts} updates pointing at tenant B`;
      process.stdout.write(`${describeAttempts(result.attempts)}\n${counts}\n`);
    }
    const where = (p: (typeof result.problems)[number]) =>
      [p.table, p.role, p.command, p.target].filter(Boolean).join(" ");
    expect(result.problems.map((p) => `${where(p)}: ${p.message}`)).toEqual([]);

    // Not vacuous: every relation of app_public was attempted by every role with every command.
    const relations = await column<string>(
      db.rootPool,
      `select 'app_public.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'app_public' and c.relkind in ('r', 'p', 'v', 'm', 'f') order by 1`,
    );
    for (const table of relations) {
      const cells = result.attempts.filter((x) => x.table === table);
      expect([table, new Set(cells.map((x) => `${x.role} ${x.command}`)).size]).toEqual([
        table,
        ROLES.length * COMMANDS.length,
      ]);
    }
  },
  MATRIX_TIMEOUT_MS,
);
