/** Starts (or reaches) PostgreSQL once per run and migrates the template every test file clones. */
import { chmodSync } from "node:fs";
import { dirname } from "node:path";
import { databaseUrls, ensureDatabase, ensureRoles } from "../../src/platform/db/cluster.ts";
import { startEmbeddedPostgres } from "../../src/platform/db/embedded.ts";
import { migrateDatabase } from "../../src/platform/db/migrate.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { freePort } from "../helpers/process.ts";
import { ENV_ROOT_URL, ENV_TEMPLATE, newClusterDir, newTemplateName, testRoles } from "./testCluster.ts";

export default async function globalSetup(): Promise<void> {
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? "warn", "test-setup");
  let rootUrl = process.env.TEST_DATABASE_URL;
  if (!rootUrl) {
    const dataDir = newClusterDir();
    chmodSync(dirname(dataDir), 0o755);
    // A port below the ephemeral range (see freePort): initdb takes seconds before PostgreSQL binds it.
    const server = await startEmbeddedPostgres({ dataDir, preferredPort: await freePort(), logger, ephemeral: true });
    (globalThis as { __tesseraEmbedded?: unknown }).__tesseraEmbedded = server;
    rootUrl = server.rootUrl;
    process.stdout.write(`\nTests use an embedded PostgreSQL on port ${server.port}\n`);
  } else {
    process.stdout.write(`\nTests use TEST_DATABASE_URL (${new URL(rootUrl).host})\n`);
  }
  const template = newTemplateName();
  await ensureRoles(rootUrl, testRoles);
  await ensureDatabase(rootUrl, template, testRoles);
  await migrateDatabase(databaseUrls(rootUrl, template, testRoles), logger, { includeCurrent: true });
  process.env[ENV_ROOT_URL] = rootUrl;
  process.env[ENV_TEMPLATE] = template;
}
