/**
 * PgBouncer in front of a test database, as docs/scaling.md deploys it: one database name per pool
 * mode, `tessera_tx` (pool_mode=transaction: the API's request and owner queries) and
 * `tessera_session` (pool_mode=session: the API's LISTEN client and the workers). The ini and
 * userlist are generated in a temporary directory; the owner role may read the admin console's
 * SHOW STATS. PgBouncer refuses to run as root: as root it switches to `nobody`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { watchClient } from "../../src/platform/db/pools.ts";
import type { TestDatabase } from "./database.ts";
import { freePort } from "./process.ts";
import { until } from "./wait.ts";

/** Where Debian's package (`apt-get install pgbouncer`) puts it, then the PATH. */
export function findPgBouncer(): string | undefined {
  const candidates = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"];
  for (const dir of (process.env.PATH ?? "").split(":")) if (dir) candidates.push(join(dir, "pgbouncer"));
  return candidates.find((path) => existsSync(path));
}

export type PoolMode = "transaction" | "session";
export type PoolRole = "owner" | "authenticator";

export const POOL_DATABASES: Record<PoolMode, string> = { transaction: "tessera_tx", session: "tessera_session" };

export interface PgBouncerOptions {
  binary: string;
  /** Server connections per user of each pool (PgBouncer's pool_size). */
  poolSize: Record<PoolMode, number>;
}

export interface PgBouncer {
  port: number;
  /** The ini as written, for the log of a failure. */
  ini: string;
  /** A connection string for `role` through the pool of `mode`. */
  url(mode: PoolMode, role: PoolRole): string;
  /** A command of the admin console (`SHOW STATS`, `SHOW POOLS`…), its rows. */
  admin(command: string): Promise<Array<Record<string, string>>>;
  output(): string;
  stop(): Promise<void>;
}

interface Credentials {
  user: string;
  password: string;
}

const credentialsOf = (url: string): Credentials => {
  const parsed = new URL(url);
  return { user: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) };
};

export async function startPgBouncer(db: TestDatabase, options: PgBouncerOptions): Promise<PgBouncer> {
  const upstream = new URL(db.urls.ownerUrl);
  const roles: Record<PoolRole, Credentials> = {
    owner: credentialsOf(db.urls.ownerUrl),
    authenticator: credentialsOf(db.urls.authenticatorUrl),
  };
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "tessera-pgbouncer-"));
  // Readable by `nobody`, whom PgBouncer becomes when started as root.
  chmodSync(dir, 0o755);
  const quote = (value: string) => `"${value.replaceAll('"', '""')}"`;
  const userlist = Object.values(roles)
    .map((role) => `${quote(role.user)} ${quote(role.password)}`)
    .join("\n");
  const target = `host=${upstream.hostname} port=${upstream.port || 5432} dbname=${db.name}`;
  const ini = [
    "[databases]",
    `${POOL_DATABASES.transaction} = ${target} pool_mode=transaction pool_size=${options.poolSize.transaction}`,
    `${POOL_DATABASES.session} = ${target} pool_mode=session pool_size=${options.poolSize.session}`,
    "",
    "[pgbouncer]",
    "listen_addr = 127.0.0.1",
    `listen_port = ${port}`,
    "unix_socket_dir =",
    "auth_type = md5",
    `auth_file = ${join(dir, "userlist.txt")}`,
    `stats_users = ${roles.owner.user}`,
    "max_client_conn = 500",
    // A client waits for a server connection at most this long, then gets an error: a failure
    // bound (a pool too small for the load shows as errors, not as a hang).
    "query_wait_timeout = 60",
    "server_reset_query = DISCARD ALL",
    "",
  ].join("\n");
  writeFileSync(join(dir, "userlist.txt"), `${userlist}\n`, { mode: 0o644 });
  writeFileSync(join(dir, "pgbouncer.ini"), ini, { mode: 0o644 });
  const asRoot = process.getuid?.() === 0;
  const child: ChildProcess = spawn(options.binary, [...(asRoot ? ["-u", "nobody"] : []), join(dir, "pgbouncer.ini")], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const chunks: string[] = [];
  child.stdout!.on("data", (chunk: Buffer) => chunks.push(chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => chunks.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const output = () => chunks.join("");

  const url = (mode: PoolMode, role: PoolRole) => {
    const result = new URL(`postgres://127.0.0.1:${port}/${POOL_DATABASES[mode]}`);
    result.username = encodeURIComponent(roles[role].user);
    result.password = encodeURIComponent(roles[role].password);
    return result.toString();
  };
  const adminUrl = url("session", "owner").replace(`/${POOL_DATABASES.session}`, "/pgbouncer");
  const admin = async (command: string) => {
    const client = watchClient(new pg.Client({ connectionString: adminUrl }), undefined, "pgbouncer-admin");
    await client.connect();
    try {
      // The admin console speaks only the simple protocol: no parameters.
      return (await client.query(command)).rows as Array<Record<string, string>>;
    } finally {
      await client.end();
    }
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until(
      async () => {
        if (child.exitCode !== null) throw new Error(`pgbouncer exited (${child.exitCode})`);
        return admin("SHOW VERSION").then(
          () => true,
          () => false,
        );
      },
      "pgbouncer to answer",
      20_000,
    );
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${ini}\n${output()}`);
  }
  return { port, ini, url, admin, output, stop };
}
