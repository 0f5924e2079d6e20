/**
 * `npm run init [-- --tenant <slug>] [--name <name>] [--email <admin e-mail>]`: bootstrap (see
 * src/commands/bootstrap.ts). Idempotent; secrets are printed once.
 */
import { parseArgs } from "node:util";
import { boot } from "./boot.ts";

const { config, logger } = boot("tessera-init");
let values: { tenant?: string; name?: string; email?: string };
try {
  ({ values } = parseArgs({ options: { tenant: { type: "string" }, name: { type: "string" }, email: { type: "string" } } }));
} catch (error) {
  process.stderr.write(`VALIDATION_FAILED: ${(error as Error).message}\nUsage: npm run init -- [--tenant <slug>] [--name <name>] [--email <admin e-mail>]\n`);
  process.exit(1);
}
const tenantSlug = values.tenant ?? "main";
const adminEmail = values.email ?? `admin@${tenantSlug}.local`;
if (!/^[a-z0-9][a-z0-9-]{1,62}$/.test(tenantSlug) || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(adminEmail)) {
  process.stderr.write("VALIDATION_FAILED: --tenant must be a slug (a-z, 0-9, -) and --email an e-mail address.\n");
  process.exit(1);
}
const { resolveDatabase } = await import("../db/resolve.ts");
const { migrateDatabase } = await import("../db/migrate.ts");
const { bootstrap } = await import("../commands/bootstrap.ts");
const pg = (await import("pg")).default;
const { watchClient } = await import("../db/pools.ts");
const database = await resolveDatabase(config, logger);
try {
  await migrateDatabase(database.urls, logger);
  const client = watchClient(new pg.Client({ connectionString: database.urls.ownerUrl }), logger, "init");
  await client.connect();
  try {
    const report = await bootstrap(client, { tenantSlug, tenantName: values.name ?? tenantSlug, adminEmail });
    process.stdout.write(`${report.join("\n")}\n`);
  } finally {
    await client.end();
  }
} finally {
  await database.stop();
}
