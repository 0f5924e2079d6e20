/**
 * Pointing Tessera at an existing PostgreSQL: with DATABASE_URL, DATABASE_AUTHENTICATOR_URL and
 * ROOT_DATABASE_URL, `npm run migrate` creates the named roles and database, then migrates.
 */
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/modules/index.ts";
import { withClient } from "../../src/platform/db/cluster.ts";
import { migrateDatabase, migrationsAreCurrent } from "../../src/platform/db/migrate.ts";
import { watchPool } from "../../src/platform/db/pools.ts";
import { resolveDatabase } from "../../src/platform/db/resolve.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { projectRoot } from "../../src/platform/paths.ts";
import pg from "pg";
import { ENV_ROOT_URL } from "../setup/testCluster.ts";

const rootUrl = process.env[ENV_ROOT_URL]!;
const logger = createLogger("silent");

/** A configuration naming roles and a database that do not exist yet, and a function dropping them. */
function externalDatabase() {
  const name = `ext_${randomBytes(4).toString("hex")}`;
  const at = (user: string, password: string) => {
    const url = new URL(rootUrl);
    url.username = user;
    url.password = password;
    url.pathname = `/${name}`;
    return url.toString();
  };
  const config = loadConfig({
    DATABASE_URL: at(name, "owner-pw"),
    DATABASE_AUTHENTICATOR_URL: at(`${name}_authenticator`, "auth-pw"),
    ROOT_DATABASE_URL: rootUrl,
    LOG_LEVEL: "silent",
  });
  const drop = () =>
    withClient(rootUrl, async (client) => {
      await client.query(`drop database if exists ${name} with (force)`);
      for (const role of [`${name}_authenticator`, `${name}_visitor`, `${name}_bot`, name])
        await client.query(`drop role if exists ${role}`);
    });
  return { name, config, drop };
}

test("roles and database are created from the URLs, then migrated and current", async () => {
  const { name, config, drop } = externalDatabase();
  try {
    const database = await resolveDatabase(config, logger);
    expect(database.embedded).toBe(false);
    // The run says what it did: every committed migration applied; the next run, nothing.
    const lines: string[] = [];
    const heard = createLogger("info", "tessera", { write: (line: string) => void lines.push(line) });
    const applied = () =>
      lines.map((line) => JSON.parse(line)).filter((line: { msg: string }) => line.msg === "migrations applied");
    await migrateDatabase(database.urls, heard);
    const committed = readdirSync(join(projectRoot, "migrations", "committed")).filter((file) => file.endsWith(".sql"));
    expect(applied()).toEqual([expect.objectContaining({ applied: committed.length, committed: committed.length })]);
    await migrateDatabase(database.urls, heard);
    expect(applied()).toHaveLength(1);
    const pool = watchPool(new pg.Pool({ connectionString: database.urls.ownerUrl }), undefined, "test");
    try {
      expect(await migrationsAreCurrent(pool)).toBe(true);
    } finally {
      await pool.end();
    }
    const roles = await withClient(rootUrl, (client) =>
      client.query<{ rolname: string; rolcanlogin: boolean; rolinherit: boolean; rolsuper: boolean }>(
        "select rolname, rolcanlogin, rolinherit, rolsuper from pg_roles where rolname like $1 order by rolname",
        [`${name}%`],
      ),
    );
    expect(roles.rows).toEqual([
      { rolname: name, rolcanlogin: true, rolinherit: true, rolsuper: false },
      { rolname: `${name}_authenticator`, rolcanlogin: true, rolinherit: false, rolsuper: false },
      { rolname: `${name}_bot`, rolcanlogin: false, rolinherit: true, rolsuper: false },
      { rolname: `${name}_visitor`, rolcanlogin: false, rolinherit: true, rolsuper: false },
    ]);
  } finally {
    await drop();
  }
});

test("commands starting at once each make sure of the roles and database: none fails", async () => {
  // Fails on the code before the fix: two made the database at once (duplicate database), or changed
  // its grants at once (PostgreSQL's "tuple concurrently updated").
  const { name, config, drop } = externalDatabase();
  try {
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, () =>
        resolveDatabase(config, logger).then(
          () => "resolved",
          (error: Error) => error.message,
        ),
      ),
    );
    expect(outcomes).toEqual(Array(12).fill("resolved"));
    const databases = await withClient(rootUrl, (client) =>
      client.query("select datname from pg_database where datname = $1", [name]),
    );
    expect(databases.rows).toEqual([{ datname: name }]);
  } finally {
    await drop();
  }
});
