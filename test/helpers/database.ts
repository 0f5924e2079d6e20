/** A database of one's own for a test file: a clone of the run's migrated template. */
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { DatabaseUrls } from "../../src/platform/config.ts";
import { databaseUrls, dropDatabase, ensureDatabase } from "../../src/platform/db/cluster.ts";
import { watchPool } from "../../src/platform/db/pools.ts";
import { ENV_ROOT_URL, ENV_TEMPLATE, testRoles } from "../setup/testCluster.ts";

export interface TestDatabase {
  name: string;
  urls: DatabaseUrls;
  /** Superuser connection string to the server's `postgres` database. */
  serverRootUrl: string;
  /** Owner-role pool (bypasses nothing: the owner is not a superuser, but owns the tables). */
  ownerPool: pg.Pool;
  /** Superuser pool on this database, for fixtures that need it. */
  rootPool: pg.Pool;
  drop(): Promise<void>;
}

/**
 * A pool of a test's own, with the error listeners: pool.end() resolves before its clients have
 * closed, and a database dropped in that moment terminates them, which without a listener is an
 * unhandled error that fails whichever test is running.
 */
export function testPool(connectionString: string | undefined, max: number, name = "test"): pg.Pool {
  return watchPool(new pg.Pool({ connectionString, max }), undefined, name);
}

export async function createTestDatabase(options: { fromTemplate?: boolean } = {}): Promise<TestDatabase> {
  const serverRootUrl = process.env[ENV_ROOT_URL];
  const template = process.env[ENV_TEMPLATE];
  if (!serverRootUrl || !template) throw new Error("test/setup/globalSetup.ts did not run");
  const name = `tessera_test_${randomBytes(5).toString("hex")}`;
  await ensureDatabase(serverRootUrl, name, testRoles, options.fromTemplate === false ? undefined : template);
  const urls = databaseUrls(serverRootUrl, name, testRoles);
  // Error listeners on the pools and on each of their clients: dropping the database terminates
  // connections that are still closing, and that must not crash the test file.
  const ownerPool = testPool(urls.ownerUrl, 4, "test-owner");
  const rootPool = testPool(urls.rootUrl, 2, "test-root");
  return {
    name,
    urls,
    serverRootUrl,
    ownerPool,
    rootPool,
    async drop() {
      await Promise.all([ownerPool.end(), rootPool.end()]);
      await dropDatabase(serverRootUrl, name);
    },
  };
}
