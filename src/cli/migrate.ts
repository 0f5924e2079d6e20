/** `npm run migrate`: installs graphile-worker's schema and applies committed migrations, then exits. */
import { boot } from "./boot.ts";

const { config, logger } = await boot("tessera-migrate");
const { resolveDatabase } = await import("../platform/db/resolve.ts");
const { migrateDatabase } = await import("../platform/db/migrate.ts");
const database = await resolveDatabase(config, logger);
try {
  await migrateDatabase(database.urls, logger);
  logger.info("migrations are current");
} finally {
  await database.stop();
}
