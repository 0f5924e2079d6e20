/** `npm run seed`: idempotent demo data (refused when APP_ENV=stage or prod). */
import { boot, withDatabase } from "./boot.ts";

const booted = await boot("tessera-seed");
const { config, logger, modules } = booted;
if (config.isProduction) {
  process.stderr.write(`FORBIDDEN: seeding demo data is refused when APP_ENV=${config.env}.\n`);
  process.exit(1);
}
const { seedDemo } = await import("../platform/db/seed.ts");
const { withClient } = await import("../platform/db/pools.ts");
// Migrated first, as `start` and `init` do (an external one too: seeding is for development only),
// so that a database of a newer version is refused (MIGRATION_FAILED) rather than seeded.
const demo = await withDatabase(booted, { migrate: true }, (urls) =>
  withClient(urls.ownerUrl, logger, "seed", (client) => seedDemo(modules, client, config.isProduction, config)),
);
process.stdout.write(`seeded tenant "demo" (${demo.users.map((user) => user.email).join(", ")}) with its events\n`);
