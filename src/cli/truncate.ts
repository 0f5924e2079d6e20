/**
 * `npm run db:truncate`: empties every table of ours and the job queue, for development. Refused
 * when APP_ENV=stage or prod. Migrations, roles and the module catalogue stay.
 */
import { boot } from "./boot.ts";

const { config, logger } = await boot("tessera-truncate");
if (config.isProduction) {
  process.stderr.write(`FORBIDDEN: db:truncate is refused when APP_ENV=${config.env}.\n`);
  process.exit(1);
}
const { resolveDatabase } = await import("../platform/db/resolve.ts");
const pg = (await import("pg")).default;
const { watchClient } = await import("../platform/db/pools.ts");
const database = await resolveDatabase(config, logger);
try {
  const client = watchClient(new pg.Client({ connectionString: database.urls.ownerUrl }), logger, "truncate");
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      `select format('%I.%I', schemaname, tablename) as name from pg_tables
       where schemaname in ('app_public', 'app_private') and tablename not in ('modules', 'permissions')
       order by 1`,
    );
    await client.query("begin");
    // The audit log refuses TRUNCATE by design; development resets are the one exception.
    await client.query("alter table app_private.domain_events disable trigger user");
    await client.query(`truncate ${rows.map((row) => row.name).join(", ")} cascade`);
    await client.query("alter table app_private.domain_events enable trigger user");
    // Through graphile-worker's public API: every job not held by a running worker.
    await client.query("select graphile_worker.complete_jobs(array(select id from graphile_worker.jobs))");
    await client.query("commit");
    process.stdout.write(`emptied ${rows.length} tables and the job queue\n`);
  } finally {
    await client.end();
  }
} finally {
  await database.stop();
}
