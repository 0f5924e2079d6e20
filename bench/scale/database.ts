/**
 * Benchmark databases beside the application's, on the same server (embedded or configured):
 * `<app database>_<suffix>`, migrated with the committed and in-progress migrations, used with the
 * application's owner and authenticator roles. The scale data set lives in `<app database>_scale`,
 * or in the database SCALE_DATABASE_URL names (a superuser URL); bench/outbox.ts uses a throw-away one.
 */
import pg from "pg";
import type { DatabaseUrls } from "../../src/platform/config.ts";
import { dropDatabase, ensureClusterFor } from "../../src/platform/db/cluster.ts";
import { migrateDatabase } from "../../src/platform/db/migrate.ts";
import { openBench, type Bench } from "../harness.ts";

export interface BenchDatabase {
  bench: Bench;
  name: string;
  urls: DatabaseUrls;
  /** Superuser pool on this database (bulk load, EXPLAIN, sizes). */
  root: pg.Pool;
  close(options?: { drop?: boolean }): Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const copy = new URL(url);
  copy.pathname = `/${name}`;
  return copy.toString();
}

/** The URLs of a benchmark database: the application's, pointed at another database name. */
function benchUrls(app: DatabaseUrls, suffix: string, given?: string) {
  const appName = decodeURIComponent(new URL(app.ownerUrl).pathname.slice(1));
  const name = given ? decodeURIComponent(new URL(given).pathname.slice(1)) : `${appName}_${suffix}`;
  const rootUrl = given ?? (app.rootUrl ? withDatabase(app.rootUrl, name) : undefined);
  if (!rootUrl)
    throw new Error("benchmark databases need ROOT_DATABASE_URL (or, for the scale data set, SCALE_DATABASE_URL)");
  const urls: DatabaseUrls = {
    ...app,
    ownerUrl: withDatabase(app.ownerUrl, name),
    authenticatorUrl: withDatabase(app.authenticatorUrl, name),
    // ensureClusterFor creates the database through the application database's superuser URL.
    rootUrl: app.rootUrl ?? given,
    shadowUrl: undefined,
  };
  return { name, urls, rootUrl };
}

export async function openBenchDatabase(suffix: string, given?: string): Promise<BenchDatabase> {
  const bench = await openBench();
  const { name, urls, rootUrl } = benchUrls(bench.database.urls, suffix, given);
  await ensureClusterFor(urls);
  await migrateDatabase({ ...urls, rootUrl }, bench.logger, { includeCurrent: true });
  const root = new pg.Pool({ connectionString: rootUrl, max: 4 });
  return {
    bench,
    name,
    urls: { ...urls, rootUrl },
    root,
    async close(options = {}) {
      await root.end();
      if (options.drop && urls.rootUrl) await dropDatabase(urls.rootUrl, name);
      await bench.close();
    },
  };
}

/** The scale data set's database (bench/scale/generate.ts fills it). */
export function openScale(): Promise<BenchDatabase> {
  return openBenchDatabase("scale", process.env.SCALE_DATABASE_URL);
}
