/**
 * The matrix catches a hole: a table added to app_public (in this file's own database) with a
 * permissive policy — every row to every caller — and rows in both tenants is reported by name, for
 * the missing expectations and, whatever its expectations say, for reading and writing another
 * tenant's rows.
 */
import { MODULES } from "../../../src/modules/index.ts";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import { defineExpectations, everyone, loadExpectations, MATRIX_TIMEOUT_MS } from "./expectations.ts";
import { type Problem, runAccessMatrix } from "./matrix.ts";
import { createSeededTenant, type SeededTenant } from "./seed.ts";

let db: TestDatabase;
let a: SeededTenant;
let b: SeededTenant;

beforeAll(async () => {
  db = await createTestDatabase();
  a = await createSeededTenant(db);
  b = await createSeededTenant(db);
  const visitor = db.urls.visitorRole;
  await db.ownerPool.query(`
    create table app_public.zz_leak (
      id uuid primary key default gen_random_uuid(),
      tenant_id uuid not null references app_public.tenants on delete cascade,
      secret text not null
    );
    comment on table app_public.zz_leak is '@module messaging
A planted hole: every row to every caller.';
    alter table app_public.zz_leak enable row level security;
    create policy p on app_public.zz_leak using (true);
    grant select, insert, update, delete on app_public.zz_leak to ${visitor};`);
  await db.ownerPool.query("insert into app_public.zz_leak (tenant_id, secret) values ($1, 'a'), ($2, 'b')", [
    a.id,
    b.id,
  ]);
});
afterAll(() => db.drop());

const modules = MODULES.map((m) => m.name);
const about = (problems: Problem[], table: string) =>
  problems
    .filter((p) => p.table === table)
    .map((p) => `${p.role ?? "-"} ${p.command ?? "-"} ${p.target ?? "-"}: ${p.message}`);

test(
  "with the modules' expectations, the run fails on zz_leak alone, naming it",
  async () => {
    const { loaded, missing } = await loadExpectations(modules);
    const { problems } = await runAccessMatrix({ db, a, b, modules, expectations: loaded, missingFiles: missing });
    expect(problems.filter((p) => p.table !== "app_public.zz_leak")).toEqual([]);
    const leak = about(problems, "app_public.zz_leak");
    expect(leak).toContainEqual(expect.stringContaining("no expectations: add it to expectations/messaging.ts"));
    for (const role of ["member", "manager", "admin", "owner"]) {
      expect(leak).toContainEqual(`${role} select other: HARD RULE: ${role} reads 1 of 1 rows of tenant B`);
      expect(leak).toContainEqual(`${role} update other: HARD RULE: ${role}'s update reached 1 rows of tenant B`);
      expect(leak).toContainEqual(`${role} delete other: HARD RULE: ${role}'s delete reached 1 rows of tenant B`);
    }
    // Anonymous callers belong to no tenant: tenant A's row is another tenant's to them too.
    expect(leak).toContainEqual("anonymous select own: HARD RULE: anonymous reads 1 of 1 rows of tenant A");
  },
  MATRIX_TIMEOUT_MS,
);

test(
  "expectations that call the leak fine change nothing: the hard rule holds whatever they say",
  async () => {
    const permissive = defineExpectations("messaging", {
      zz_leak: {
        select: everyone("all"),
        insert: everyone("allowed"),
        update: everyone("allowed"),
        delete: everyone("allowed"),
      },
    });
    const { problems } = await runAccessMatrix({
      db,
      a,
      b,
      modules,
      expectations: [permissive],
      tables: ["zz_leak"],
    });
    const leak = about(problems, "app_public.zz_leak");
    expect(leak).toContainEqual("member select other: HARD RULE: member reads 1 of 1 rows of tenant B");
    expect(leak).toContainEqual("member insert other: HARD RULE: member inserted a row into tenant B");
    expect(leak).toContainEqual("owner update other: HARD RULE: owner's update reached 1 rows of tenant B");
    expect(leak).not.toContainEqual(expect.stringContaining("no expectations"));
  },
  MATRIX_TIMEOUT_MS,
);
