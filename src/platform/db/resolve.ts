/**
 * Where the database is: the URLs from the environment, or — with no DATABASE_URL — an embedded
 * PostgreSQL (in `.data/pg`, or EMBEDDED_DATABASE_DIR) with the owner, authenticator and visitor
 * roles and the app and shadow databases created on first start.
 */
import { createHmac } from "node:crypto";
import type { Config, DatabaseUrls } from "../config.ts";
import type { Logger } from "../logger.ts";
import { databaseUrls, ensureClusterFor, ensureDatabase, ensureRoles, rolesFor } from "./cluster.ts";
import { startEmbeddedPostgres } from "./embedded.ts";
import { migrationStep } from "./unreachable.ts";

export interface ResolvedDatabase {
  urls: DatabaseUrls;
  embedded: boolean;
  /** Called when the process begins to stop: a command starting meanwhile will not attach to it. */
  stopping(): void;
  stop(): Promise<void>;
}

const EMBEDDED_PREFIX = "tessera";
const EMBEDDED_PORT = 54320;

export async function resolveDatabase(config: Config, logger: Logger): Promise<ResolvedDatabase> {
  if (config.database) {
    // With ROOT_DATABASE_URL we may administer the server: create what the URLs name if missing.
    const urls = config.database;
    await migrationStep("Cannot create the roles and database with ROOT_DATABASE_URL", () => ensureClusterFor(urls));
    return { urls: config.database, embedded: false, stopping: () => {}, stop: async () => {} };
  }
  // Commands run while `npm start` is up connect to its cluster (startEmbeddedPostgres attaches);
  // stop() then leaves the cluster to the process that started it.
  const server = await startEmbeddedPostgres({
    dataDir: config.embeddedDatabaseDir,
    preferredPort: EMBEDDED_PORT,
    logger,
  });
  // Role passwords are derived from the cluster's own secret: nothing more to store.
  const derive = (role: string) => createHmac("sha256", server.rootUrl).update(role).digest("base64url");
  const roles = rolesFor(EMBEDDED_PREFIX, { owner: derive("owner"), authenticator: derive("authenticator") });
  await ensureRoles(server.rootUrl, roles);
  await ensureDatabase(server.rootUrl, EMBEDDED_PREFIX, roles);
  await ensureDatabase(server.rootUrl, `${EMBEDDED_PREFIX}_shadow`, roles);
  if (server.owned) logger.info({ port: server.port, dataDir: server.dataDir }, "embedded PostgreSQL is up");
  return {
    urls: databaseUrls(server.rootUrl, EMBEDDED_PREFIX, roles, `${EMBEDDED_PREFIX}_shadow`),
    embedded: true,
    stopping: () => server.stopping(),
    stop: () => server.stop(),
  };
}
