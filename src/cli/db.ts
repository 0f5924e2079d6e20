/**
 * `npm run db -- <graphile-migrate command>`: graphile-migrate's CLI with the connection strings
 * and role placeholders of the configured (or embedded) database, e.g. `npm run db -- watch --once`,
 * `npm run db -- commit`. After commands that change the database, the reviewed dumps are refreshed.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { boot } from "./boot.ts";

const { config, logger, modules } = await boot("tessera-db", { takesArguments: true });
const { resolveDatabase } = await import("../platform/db/resolve.ts");
const { migrationSettings } = await import("../platform/db/migrate.ts");
const { exportSchemas } = await import("../platform/schemaExport.ts");
const { projectRoot } = await import("../platform/paths.ts");
const { runMigrations } = await import("graphile-worker");

const args = process.argv.slice(2);
const database = await resolveDatabase(config, logger);
try {
  const settings = migrationSettings(database.urls);
  await runMigrations({ connectionString: database.urls.ownerUrl });
  const result = spawnSync(join(projectRoot, "node_modules", ".bin", "graphile-migrate"), args, {
    stdio: "inherit",
    cwd: projectRoot,
    env: {
      ...process.env,
      DATABASE_URL: settings.connectionString,
      SHADOW_DATABASE_URL: settings.shadowConnectionString,
      ROOT_DATABASE_URL: settings.rootConnectionString,
      DATABASE_OWNER: settings.databaseOwner,
      DATABASE_AUTHENTICATOR: settings.placeholders?.[":DATABASE_AUTHENTICATOR"],
      DATABASE_VISITOR: settings.placeholders?.[":DATABASE_VISITOR"],
      DATABASE_BOT: settings.placeholders?.[":DATABASE_BOT"],
    },
  });
  if (result.status === 0 && ["migrate", "commit", "uncommit", "watch", "reset"].includes(args[0] ?? "")) {
    await exportSchemas(database.urls, logger, modules);
  }
  process.exitCode = result.status ?? 1;
} finally {
  await database.stop();
}
