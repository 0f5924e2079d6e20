/**
 * Pools and clients that survive a lost connection. pg emits `error` on a client whose connection
 * dies (a server restart, pg_terminate_backend, a dropped database, a network cut) — on the pool
 * for an idle client, on the client itself while it is checked out or standalone — and an `error`
 * event without a listener is thrown, which ends the process. The error also fails the query in
 * flight, if any, so the caller sees it there; these listeners only keep the process alive and
 * log. Every pool and client the app opens goes through here.
 */
import { createHash } from "node:crypto";
import pg from "pg";
import type { Logger } from "../logger.ts";

let connectTimeoutMs = 10_000;

/**
 * How long any new connection of this process may take to be ready (DATABASE_CONNECT_TIMEOUT_SECONDS;
 * every command sets it at boot). pg waits for ever by default: a host that drops packets, or a
 * port answered by a server that never replies (Redis, a stuck proxy), hung a command without a
 * word. A pool applies it to making a connection only, not to waiting for a free one.
 */
export function setConnectTimeout(ms: number): void {
  connectTimeoutMs = ms;
}

/** The connect timeout as the operator wrote it: "10 s (DATABASE_CONNECT_TIMEOUT_SECONDS)". */
export function connectTimeoutSetting(): string {
  return `${connectTimeoutMs / 1000} s (DATABASE_CONNECT_TIMEOUT_SECONDS)`;
}

/** A client config with the connect timeout. */
export function timed(config: pg.ClientConfig): pg.ClientConfig {
  return { ...config, connectionTimeoutMillis: connectTimeoutMs };
}

/** Adds the `error` listeners to a pool and to every client it connects; returns the pool. */
export function watchPool(pool: pg.Pool, logger: Logger | undefined, name: string): pg.Pool {
  // An idle client's error reaches both the pool and the client: the client's listener logs it.
  pool.on("error", () => {});
  pool.on("connect", (client) => void watchClient(client, logger, name));
  return pool;
}

/** Adds an `error` listener to one client; returns the client. */
export function watchClient<T extends pg.ClientBase>(client: T, logger: Logger | undefined, name: string): T {
  client.on("error", (error) => logger?.warn({ err: error, pool: name }, "database connection lost"));
  return client;
}

/**
 * A pool with the listeners of watchPool. `preparedStatements: false` gives it clients that never
 * prepare a named statement: behind a transaction pooler (PgBouncer before 1.21 in transaction
 * mode) consecutive transactions of one client run on different server connections, where a
 * statement prepared on one is unknown on the next. The query runs unnamed instead (parsed each
 * time). node-postgres names a statement only when asked to; PostGraphile's executor asks.
 */
export function newPool(
  config: pg.PoolConfig,
  logger: Logger | undefined,
  name: string,
  options: { preparedStatements?: boolean } = {},
): pg.Pool {
  const Client = options.preparedStatements === false ? UnnamedStatementsClient : TimedClient;
  return watchPool(new pg.Pool({ ...config, Client }), logger, name);
}

/**
 * A pool's client with the connect timeout. Given to the pool as its own `connectionTimeoutMillis`,
 * it would also fail a request that waits that long for a free connection under load.
 */
class TimedClient extends pg.Client {
  constructor(config?: pg.ClientConfig) {
    super(timed(config ?? {}));
  }
}

/** A client whose queries never carry a statement name (see newPool). */
class UnnamedStatementsClient extends TimedClient {}
const namedQuery = pg.Client.prototype.query as (this: pg.Client, ...args: unknown[]) => unknown;
UnnamedStatementsClient.prototype.query = function (this: pg.Client, config: unknown, ...rest: unknown[]) {
  return namedQuery.call(this, withoutName(config), ...rest);
} as typeof pg.Client.prototype.query;

/** A query config without its `name`; anything else (text, a Submittable) as it is. */
function withoutName(config: unknown): unknown {
  if (typeof config !== "object" || config === null || !("name" in config)) return config;
  if (typeof (config as { submit?: unknown }).submit === "function") return config;
  const { name: _name, ...unnamed } = config as Record<string, unknown>;
  return unnamed;
}

/**
 * Runs `work` between begin and commit on one client; any error rolls back and is rethrown.
 * `begin` may carry more statements in the same message (`beginWith`).
 */
export async function inTransaction<T>(client: pg.ClientBase, work: () => Promise<T>, begin = "begin"): Promise<T> {
  try {
    await client.query(begin);
  } catch (error) {
    // A `begin` sent with other statements may have opened the transaction before one failed: the
    // connection must not go back to its pool inside it. (A lost connection has nothing to undo.)
    await client.query("rollback").catch(() => undefined);
    throw error;
  }
  try {
    const result = await work();
    await client.query("commit");
    return result;
  } catch (error) {
    await client.query("rollback");
    throw error;
  }
}

/** Connects one client for the length of `work`, with the listeners of watchClient. */
export async function withClient<T>(
  connectionString: string,
  logger: Logger | undefined,
  name: string,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = watchClient(new pg.Client(timed({ connectionString })), logger, name);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** `begin` and transaction-local settings as one simple-protocol message; "" without settings. */
export function beginWith(settings: Record<string, string | undefined>): string {
  const set = settingsOnly(settings);
  return set ? `begin; ${set}` : "";
}

/**
 * The statement that makes `settings` transaction-local; "" without settings. It answers one row
 * (a count), not one row per setting for the driver to parse.
 */
export function settingsOnly(settings: Record<string, string | undefined>): string {
  const entries = settingEntries(settings);
  if (entries.length === 0) return "";
  const json = quoteLiteral(JSON.stringify(entries));
  // A function, not a string, as the replacement: `$&` or `$'` in a setting would be read as patterns.
  return SETTINGS_SQL.replace("$1", () => json);
}

const SETTINGS_SQL = "select count(set_config(el->>0, el->>1, true)) from json_array_elements($1::json) el";

/**
 * settingsOnly's statement prepared, the settings its parameter: one text for every request, so a
 * connection parses and plans it once (undefined without settings).
 */
export function settingsStatement(settings: Record<string, string | undefined>): pg.QueryConfig | undefined {
  const entries = settingEntries(settings);
  if (entries.length === 0) return undefined;
  return prepared(SETTINGS_SQL, [JSON.stringify(entries)]);
}

function settingEntries(settings: Record<string, string | undefined>): Array<[string, string]> {
  return Object.entries(settings).filter((entry): entry is [string, string] => entry[1] != null);
}

/**
 * A string as an SQL literal, written as `pg.escapeLiteral` writes it (`'…'`, or ` E'…'` when it
 * holds a backslash), with two replaces where pg grows the result one character at a time: on the
 * request path, that loop over the settings' JSON allocated a twelfth of a `currentUser` request's
 * memory (bench/profile.ts with PROFILE_HEAP=1).
 */
export function quoteLiteral(value: string): string {
  const quoted = value.replaceAll("'", "''");
  return value.includes("\\") ? ` E'${quoted.replaceAll("\\", "\\\\")}'` : `'${quoted}'`;
}

const statementNames = new Map<string, string>();

/** `text` as a prepared statement under statementName(text), with its parameters. */
export function prepared(text: string, values: unknown[]): pg.QueryConfig {
  return { name: statementName(text), text, values };
}

/**
 * The name under which a statement's text is prepared, the same for the same text: a connection
 * parses and plans it once, then only binds and executes it (a pool that must not prepare drops the
 * name, see newPool). Only for texts built from a bounded set of parts: every text is remembered.
 */
export function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `tessera_${createHash("sha256").update(text).digest("hex").slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return name;
}
