/**
 * `npm run init [-- --tenant <slug>] [--name <name>] [--email <admin e-mail>] [--operator <e-mail>]
 * [--revoke-operator <e-mail>]`: bootstrap (the steps of every module: src/platform/bootstrap.ts). Idempotent; secrets
 * are printed once. `--operator` makes a user of the tenant a platform operator — the only way to
 * become one.
 */
import { parseArgs } from "node:util";
import { boot } from "./boot.ts";

const USAGE = "Usage: npm run init -- [--tenant <slug>] [--name <name>] [--email <admin e-mail>] [--operator <e-mail>] [--revoke-operator <e-mail>]";
const { config, logger, modules } = await boot("tessera-init");
let values: { tenant?: string; name?: string; email?: string; operator?: string; "revoke-operator"?: string };
try {
  ({ values } = parseArgs({
    options: {
      tenant: { type: "string" },
      name: { type: "string" },
      email: { type: "string" },
      operator: { type: "string" },
      "revoke-operator": { type: "string" },
    },
  }));
} catch (error) {
  process.stderr.write(`VALIDATION_FAILED: ${(error as Error).message}\n${USAGE}\n`);
  process.exit(1);
}
const tenantSlug = values.tenant ?? "main";
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const emails = [values.email, values.operator, values["revoke-operator"]].filter((email) => email !== undefined);
if (!/^[a-z0-9][a-z0-9-]{1,62}$/.test(tenantSlug) || !emails.every((email) => EMAIL.test(email))) {
  process.stderr.write("VALIDATION_FAILED: --tenant must be a slug (a-z, 0-9, -) and --email, --operator, --revoke-operator e-mail addresses.\n");
  process.exit(1);
}
const { resolveDatabase } = await import("../platform/db/resolve.ts");
const { migrateDatabase } = await import("../platform/db/migrate.ts");
const { bootstrap } = await import("../platform/bootstrap.ts");
const { AppError } = await import("../platform/errors.ts");
const pg = (await import("pg")).default;
const { watchClient } = await import("../platform/db/pools.ts");
const database = await resolveDatabase(config, logger);
let exitCode = 0;
try {
  await migrateDatabase(database.urls, logger);
  const client = watchClient(new pg.Client({ connectionString: database.urls.ownerUrl }), logger, "init");
  await client.connect();
  try {
    const report = await bootstrap(modules, client, {
      tenantSlug,
      tenantName: values.name ?? tenantSlug,
      options: { email: values.email, operator: values.operator, "revoke-operator": values["revoke-operator"] },
    });
    process.stdout.write(`${report.join("\n")}\n`);
  } catch (error) {
    // Refusals (an unknown operator e-mail…) are one line; nothing was written (one transaction).
    if (!(error instanceof AppError)) throw error;
    process.stderr.write(`${error.code}: ${error.message}\n`);
    exitCode = 1;
  } finally {
    await client.end();
  }
} finally {
  await database.stop();
}
process.exitCode = exitCode;
