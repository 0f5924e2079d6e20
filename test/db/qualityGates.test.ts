import pg from "pg";
import { currentMigrationSql, migrateDatabase } from "../../src/platform/db/migrate.ts";
import { watchClient } from "../../src/platform/db/pools.ts";
import { checkQualityGates, runPlpgsqlCheck } from "../../src/platform/db/qualityGates.ts";
import { renderSqlSchema } from "../../src/platform/schemaExport.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

/** Migration SQL with its role placeholders filled in for this database. */
function migrationSql(text: string, database: TestDatabase): string {
  const authenticator = decodeURIComponent(new URL(database.urls.authenticatorUrl).username);
  const owner = decodeURIComponent(new URL(database.urls.ownerUrl).username);
  return text
    .replaceAll(":DATABASE_AUTHENTICATOR", authenticator)
    .replaceAll(":DATABASE_VISITOR", database.urls.visitorRole)
    .replaceAll(":DATABASE_BOT", database.urls.botRole)
    .replaceAll(":DATABASE_OWNER", owner);
}

test("our migrations pass every gate", async () => {
  expect(await checkQualityGates(db.ownerPool)).toEqual([]);
});

test("plpgsql_check finds no errors in our functions (skipped where the extension cannot exist)", async () => {
  const client = await db.rootPool.connect();
  try {
    const outcome = await runPlpgsqlCheck(client);
    if (!outcome.available) {
      process.stdout.write(
        "plpgsql_check: not available on this PostgreSQL server — gate skipped (CI runs it on PostgreSQL 15)\n",
      );
      return;
    }
    expect(outcome.violations).toEqual([]);
  } finally {
    client.release();
  }
});

describe("a deliberately bad migration", () => {
  let bad: TestDatabase;
  beforeAll(async () => {
    bad = await createTestDatabase();
    await bad.ownerPool.query(`
      create table app_public.throwaway (id int primary key, tenant_id uuid references app_public.tenants);
      grant select on app_public.throwaway to public;
      create function app_private.careless() returns int language sql security definer as 'select 1';
      grant execute on function app_private.careless() to public;
      create function app_private.broken() returns int language plpgsql as $$
        begin return (select no_such_column from app_public.tenants limit 1); end $$;
      create function app_public.unguarded() returns int language sql security definer
        set search_path to pg_catalog as 'select 1';
      create table app_public.loose (tenant_id uuid, user_id uuid references app_public.users);
      -- Delegating counts only to a private function that checks the caller itself.
      create function app_private.checks_nobody() returns int language sql as 'select 1';
      create function app_public.delegates_to_nobody() returns int language sql security definer
        set search_path to pg_catalog as 'select app_private.checks_nobody()';
      -- A request inserting would run the trigger's private call as itself, and be refused.
      grant insert on app_public.throwaway to ${bad.urls.visitorRole};
      create function app_private.tg_throwaway__as_caller() returns trigger language plpgsql as $$
        begin perform app_private.checks_nobody(); return null; end $$;
      create trigger _900_as_caller after insert on app_public.throwaway
        for each row execute function app_private.tg_throwaway__as_caller();
    `);
  });
  afterAll(() => bad.drop());

  test("fails the gates, naming each problem", async () => {
    const violations = await checkQualityGates(bad.ownerPool);
    expect(violations).toEqual(
      expect.arrayContaining([
        { gate: "rls", object: "app_public.throwaway", problem: "row-level security is not enabled" },
        { gate: "rls", object: "app_public.throwaway", problem: "has no policy" },
        {
          gate: "fk-index",
          object: "app_public.throwaway (throwaway_tenant_id_fkey)",
          problem: "foreign key has no supporting index",
        },
        {
          gate: "security-definer",
          object: "app_private.careless()",
          problem: "security definer function does not pin search_path",
        },
        { gate: "public-grants", object: "app_public.throwaway", problem: "granted to PUBLIC" },
        { gate: "public-grants", object: "app_private.careless()", problem: "granted to PUBLIC" },
        expect.objectContaining({ gate: "definer-guard", object: "app_public.unguarded()" }),
        expect.objectContaining({ gate: "definer-guard", object: "app_public.delegates_to_nobody()" }),
        expect.objectContaining({ gate: "tenant-fk", object: "app_public.loose (loose_user_id_fkey)" }),
        expect.objectContaining({ gate: "module-tag", object: "app_public.throwaway" }),
        expect.objectContaining({ gate: "module-tag", object: "app_private.careless()" }),
        expect.objectContaining({
          gate: "trigger-definer",
          object: "app_public.throwaway (_900_as_caller, app_private.tg_throwaway__as_caller())",
        }),
      ]),
    );
  });

  test("fails plpgsql_check where it is available", async () => {
    const client = await bad.rootPool.connect();
    try {
      const outcome = await runPlpgsqlCheck(client);
      if (!outcome.available) return;
      expect(outcome.violations).toEqual([
        expect.objectContaining({ gate: "plpgsql_check", object: "app_private.broken()" }),
      ]);
    } finally {
      client.release();
    }
  });
});

test("migrations replay from zero to the same schema as the template", async () => {
  const empty = await createTestDatabase({ fromTemplate: false });
  try {
    await migrateDatabase(empty.urls, createLogger("silent"), { includeCurrent: true });
    expect(await renderSqlSchema(empty.urls)).toEqual(await renderSqlSchema(db.urls));
  } finally {
    await empty.drop();
  }
});

test("migrations/current/ applies twice without error", async () => {
  const sql = migrationSql(currentMigrationSql(), db);
  const client = watchClient(new pg.Client({ connectionString: db.urls.ownerUrl }), undefined, "test");
  await client.connect();
  try {
    await client.query(sql);
    await client.query(sql);
  } finally {
    await client.end();
  }
});
