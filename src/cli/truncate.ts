/**
 * `npm run db:truncate`: empties every table of ours and the job queue, for development. Refused
 * when APP_ENV=stage or prod. Migrations, roles and the module catalogue stay.
 */
import { boot, withDatabase } from "./boot.ts";

const booted = await boot("tessera-truncate");
const { config, logger } = booted;
if (config.isProduction) {
  process.stderr.write(`FORBIDDEN: db:truncate is refused when APP_ENV=${config.env}.\n`);
  process.exit(1);
}
const { inTransaction, withClient } = await import("../platform/db/pools.ts");
// The catalogues the migrations seed stay: modules, permissions and the built-in roles' grants.
const KEPT = ["app_public.modules", "app_public.permissions", "app_private.builtin_role_permissions"];
const APPEND_ONLY = ["app_private.domain_events", "app_public.transactions"];
// Migrated first: a database without the schema has nothing to empty, and said so with a stack trace.
await withDatabase(booted, { migrate: true }, (urls) =>
  withClient(urls.ownerUrl, logger, "truncate", async (client) => {
    const { rows } = await client.query<{ name: string }>(
      `select format('%I.%I', schemaname, tablename) as name from pg_tables
       where schemaname in ('app_public', 'app_private') and format('%s.%s', schemaname, tablename) <> all($1)
       order by 1`,
      [KEPT],
    );
    await inTransaction(client, async () => {
      // The audit log and the ledger refuse TRUNCATE by design; development resets are the one exception.
      for (const table of APPEND_ONLY) await client.query(`alter table ${table} disable trigger user`);
      await client.query(`truncate ${rows.map((row) => row.name).join(", ")} cascade`);
      for (const table of APPEND_ONLY) await client.query(`alter table ${table} enable trigger user`);
      // Through graphile-worker's public API: every job not held by a running worker.
      await client.query("select graphile_worker.complete_jobs(array(select id from graphile_worker.jobs))");
    });
    process.stdout.write(`emptied ${rows.length} tables and the job queue\n`);
  }),
);
