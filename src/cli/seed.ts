/** `npm run seed`: idempotent demo data (refused when APP_ENV=stage or prod). */
import { boot } from "./boot.ts";

const { config, logger, modules } = await boot("tessera-seed");
if (config.isProduction) {
  process.stderr.write(`Refusing to seed demo data when APP_ENV=${config.env}.\n`);
  process.exit(1);
}
const { resolveDatabase } = await import("../platform/db/resolve.ts");
const { migrateDatabase } = await import("../platform/db/migrate.ts");
const { seedDemo } = await import("../platform/db/seed.ts");
const pg = (await import("pg")).default;
const { watchClient } = await import("../platform/db/pools.ts");
const database = await resolveDatabase(config, logger);
try {
  if (database.embedded) await migrateDatabase(database.urls, logger);
  const client = watchClient(new pg.Client({ connectionString: database.urls.ownerUrl }), logger, "seed");
  await client.connect();
  try {
    const demo = await seedDemo(modules, client, config.isProduction);
    process.stdout.write(`seeded tenant "demo" (${demo.users.map((user) => user.email).join(", ")}) with its events\n`);
  } finally {
    await client.end();
  }
} finally {
  await database.stop();
}
