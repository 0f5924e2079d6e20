/**
 * The two reviewed artefacts generated from a migrated database: `schema.graphql` (sorted SDL of
 * the GraphQL API) and `sql/schema.sql` (our schemas as SQL). A test rebuilds both and fails when
 * the committed copies are stale.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { postgraphile } from "postgraphile";
import { lexicographicSortSchema, printSchema } from "postgraphile/graphql";
import { loadConfig, type DatabaseUrls } from "./config.ts";
import type { ModuleManifest } from "./modules.ts";
import { dumpSchema } from "./db/dumpSchema.ts";
import { timed, watchClient } from "./db/pools.ts";
import { makePreset } from "./graphql/preset.ts";
import type { Logger } from "./logger.ts";
import { projectRoot } from "./paths.ts";

export const SCHEMA_GRAPHQL_PATH = join(projectRoot, "schema.graphql");
export const SCHEMA_SQL_PATH = join(projectRoot, "sql", "schema.sql");

export async function renderGraphqlSchema(
  urls: DatabaseUrls,
  logger: Logger,
  modules: readonly ModuleManifest[],
): Promise<string> {
  const preset = makePreset({
    database: urls,
    jwtSecret: "unused-for-export",
    isProduction: false,
    graphql: loadConfig({}, []).graphql,
    logger,
    plugins: modules.flatMap((module) => module.graphqlPlugins ?? []),
  });
  const pgl = postgraphile(preset);
  try {
    const schema = await pgl.getSchema();
    return `${printSchema(lexicographicSortSchema(schema))}\n`;
  } finally {
    const services = pgl.getResolvedPreset().pgServices ?? [];
    await pgl.release();
    await Promise.all(services.map((service) => service.release?.()));
  }
}

export async function renderSqlSchema(urls: DatabaseUrls, modules: readonly ModuleManifest[] = []): Promise<string> {
  const client = watchClient(new pg.Client(timed({ connectionString: urls.ownerUrl })), undefined, "schema-export");
  await client.connect();
  try {
    return await dumpSchema(
      client,
      {
        authenticator: decodeURIComponent(new URL(urls.authenticatorUrl).username),
        visitor: urls.visitorRole,
        bot: urls.botRole,
      },
      modules.map((module) => module.name),
    );
  } finally {
    await client.end();
  }
}

export async function exportSchemas(
  urls: DatabaseUrls,
  logger: Logger,
  modules: readonly ModuleManifest[],
): Promise<void> {
  writeFileSync(SCHEMA_GRAPHQL_PATH, await renderGraphqlSchema(urls, logger, modules));
  mkdirSync(join(projectRoot, "sql"), { recursive: true });
  writeFileSync(SCHEMA_SQL_PATH, await renderSqlSchema(urls, modules));
  logger.info("wrote schema.graphql and sql/schema.sql");
}
