/** `npm run schema:export`: migrate, then rewrite schema.graphql and sql/schema.sql. */
import { boot } from "./boot.ts";

const { config, logger, modules } = await boot("tessera-schema");
const { resolveDatabase } = await import("../platform/db/resolve.ts");
const { migrateDatabase } = await import("../platform/db/migrate.ts");
const { exportSchemas } = await import("../platform/schemaExport.ts");
const database = await resolveDatabase(config, logger);
try {
  await migrateDatabase(database.urls, logger);
  await exportSchemas(database.urls, logger, modules);
} finally {
  await database.stop();
}
