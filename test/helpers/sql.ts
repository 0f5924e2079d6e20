/**
 * The SQL test tier: a module's functions and row-level security called directly, as the request
 * role with a caller's claims, inside a transaction that is always rolled back. No HTTP server.
 */
import { randomBytes } from "node:crypto";
import type pg from "pg";
import { createTestDatabase, type TestDatabase } from "./database.ts";
import { asVisitor } from "./roles.ts";
import { until } from "./wait.ts";

/** What a request of this caller sets (src/platform/graphql/context.ts, pgSettingsFor). */
export interface Claims {
  userId: string;
  tenantId: string;
  sessionId: string;
  role: string;
}

/** A person of a SQL tenant: their claims, with a live session row. */
export interface SqlUser extends Claims {
  username: string;
}

export interface SqlTenant {
  id: string;
  slug: string;
  owner: SqlUser;
  admin: SqlUser;
  manager: SqlUser;
  member: SqlUser;
}

export type Client = pg.PoolClient;

/** Runs fn as the request role with the caller's claims set for the transaction; always rolled back. */
export function asUser<T>(db: TestDatabase, claims: Claims, fn: (client: Client) => Promise<T>): Promise<T> {
  return asVisitor(db.rootPool, db.urls.visitorRole, async (client) => {
    await become(client, claims);
    return fn(client);
  });
}

/**
 * Sets the claims of the next statements of the transaction (null: anonymous), so that one rolled-back
 * transaction can act as several people in turn (a manager creates an event, members join it).
 */
export async function become(client: Client, claims: Claims | null): Promise<void> {
  await client.query(
    `select set_config('jwt.claims.user_id', $1, true), set_config('jwt.claims.tenant_id', $2, true),
            set_config('jwt.claims.session_id', $3, true), set_config('jwt.claims.role', $4, true)`,
    [claims?.userId ?? "", claims?.tenantId ?? "", claims?.sessionId ?? "", claims?.role ?? ""],
  );
}

/** Runs fn as the bot role with the claims of a bot of the tenant (as bot requests set them); rolled back. */
export function asBot<T>(db: TestDatabase, tenantId: string, botId: string, fn: (client: Client) => Promise<T>) {
  return asVisitor(db.rootPool, db.urls.botRole, async (client) => {
    await client.query(
      "select set_config('jwt.claims.bot_tenant_id', $1, true), set_config('jwt.claims.bot_id', $2, true)",
      [tenantId, botId],
    );
    return fn(client);
  });
}

/**
 * Runs fn in a transaction of its own on a connection of `pool`, as `role` once `setup` has set its
 * claims, and commits it (rolled back on an error): for work later transactions, or parallel ones,
 * must see.
 */
export async function committedAs<T>(
  pool: pg.Pool,
  role: string,
  setup: (client: Client) => Promise<unknown>,
  fn: (client: Client) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    await client.query(`set local role ${role}`);
    await setup(client);
    const result = await fn(client);
    await client.query("commit");
    return result;
  } catch (error) {
    await client.query("rollback");
    throw error;
  } finally {
    client.release();
  }
}

/** The claims a request of this signed-in test user sets. */
export const claimsOf = (user: { id: string; tenantId: string; sessionId: string; role: string }): Claims => ({
  userId: user.id,
  tenantId: user.tenantId,
  sessionId: user.sessionId,
  role: user.role,
});

/**
 * Runs fn as the request role with `claims` in a transaction of its own, held open after fn until
 * `release` is called, then committed: the other side of a race a test plays out step by step.
 * `written()` is true once fn is done (and throws what the transaction failed with, if it failed).
 */
export function heldTransaction(db: TestDatabase, claims: Claims, fn: (client: Client) => Promise<unknown>) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let done = false;
  let failure: unknown;
  const committed = committedAs(
    db.rootPool,
    db.urls.visitorRole,
    (client) => become(client, claims),
    async (client) => {
      await fn(client);
      done = true;
      await released;
    },
  );
  committed.catch((error: unknown) => (failure = error));
  const written = () => {
    if (failure) throw failure;
    return done;
  };
  return { committed, release, written };
}

/**
 * How many statements of the test database wait for a lock another transaction holds (only those
 * waiting on one of `events`, pg_stat_activity's wait_event, when given: `advisory`, `tuple`, …).
 */
export async function lockWaiters(db: TestDatabase, events?: string[]): Promise<number> {
  const { rows } = await db.rootPool.query<{ n: number }>(
    `select count(*)::int as n from pg_stat_activity
     where datname = current_database() and wait_event_type = 'Lock' and ($1::text[] is null or wait_event = any ($1))`,
    [events ?? null],
  );
  return rows[0]!.n;
}

/**
 * Waits until `work` (already sent) has answered, or a statement waits for a lock (on one of
 * `events`, when given): the step of a race a test plays out where the other side must wait — or,
 * on code without the lock, has gone through at once.
 */
export async function untilWaitingOrDone(
  db: TestDatabase,
  work: Promise<unknown>,
  what: string,
  events?: string[],
): Promise<void> {
  let done = false;
  const settled = () => {
    done = true;
  };
  work.then(settled, settled);
  await until(async () => done || (await lockWaiters(db, events)) > 0, what);
}

/** Runs fn as the request role with no claims (a request without a token); always rolled back. */
export function asAnonymous<T>(db: TestDatabase, fn: (client: Client) => Promise<T>): Promise<T> {
  return asVisitor(db.rootPool, db.urls.visitorRole, fn);
}

/**
 * Runs one statement as the superuser inside the open transaction, then goes back to the request
 * role with the same claims: for rows a test needs that no request could write (a notification, a
 * failed job), rolled back with everything else.
 */
export async function asRoot<R extends pg.QueryResultRow = Record<string, unknown>>(
  db: TestDatabase,
  client: Client,
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  await client.query("reset role");
  const result = await client.query<R>(sql, params);
  await client.query(`set local role ${db.urls.visitorRole}`);
  return result.rows;
}

/**
 * The SQLSTATE a statement fails with, or undefined when it succeeds (its effects then stay in the
 * transaction). A savepoint keeps the transaction usable after a failure.
 */
export async function errorCode(client: Client, sql: string, params: unknown[] = []): Promise<string | undefined> {
  await client.query("savepoint attempt");
  try {
    await client.query(sql, params);
    await client.query("release savepoint attempt");
    return undefined;
  } catch (error) {
    await client.query("rollback to savepoint attempt");
    return (error as { code?: string }).code ?? String(error);
  }
}

/** The rows of a query. */
export async function rows<R extends pg.QueryResultRow = Record<string, unknown>>(
  client: Client | pg.Pool,
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  return (await client.query<R>(sql, params)).rows;
}

/** The first column of every row, for lists of ids. */
export async function column<V = unknown>(client: Client | pg.Pool, sql: string, params: unknown[] = []): Promise<V[]> {
  const result = await client.query({ text: sql, values: params, rowMode: "array" });
  return result.rows.map((row: unknown[]) => row[0] as V);
}

/** The first column of the first row. */
export async function value<V = unknown>(client: Client | pg.Pool, sql: string, params: unknown[] = []): Promise<V> {
  return (await column<V>(client, sql, params))[0] as V;
}

const BUILTIN_ROLES = ["owner", "admin", "manager", "member"] as const;

/**
 * A tenant in a few statements (committed, as the owner role): its built-in roles and system user,
 * every module of the catalogue on, and an owner, an admin, a manager and a member, each holding
 * that one built-in role and signed in with a live session row.
 */
export async function createSqlTenant(db: TestDatabase): Promise<SqlTenant> {
  const slug = `s-${randomBytes(5).toString("hex")}`;
  const client = await db.ownerPool.connect();
  try {
    await client.query("begin");
    const insert = "insert into app_public.tenants (slug, name) values ($1, $2) returning id";
    const id = await value<string>(client, insert, [slug, slug]);
    await client.query("select app_private.ensure_tenant_identity($1)", [id]);
    await client.query(
      `insert into app_public.tenant_modules (tenant_id, module) select $1, name from app_public.modules
       on conflict do nothing`,
      [id],
    );
    await client.query(
      `insert into app_public.users (tenant_id, email, username)
       select $1, r || '.' || $2 || '@example.test', r || '.' || $2 from unnest($3::text[]) r`,
      [id, slug, BUILTIN_ROLES],
    );
    await client.query(
      `insert into app_public.user_roles (user_id, role_id)
       select u.id, r.id from app_public.users u
       join app_public.roles r on r.tenant_id = u.tenant_id and r.name = split_part(u.username, '.', 1)
       where u.tenant_id = $1 and not u.is_system`,
      [id],
    );
    const people = await rows<{ id: string; username: string; session_id: string }>(
      client,
      `insert into app_private.sessions (user_id, tenant_id, expires_at)
       select u.id, u.tenant_id, now() + interval '1 day' from app_public.users u
       where u.tenant_id = $1 and not u.is_system
       returning user_id as id, (select username from app_public.users where id = user_id), id as session_id`,
      [id],
    );
    await client.query("commit");
    const person = (role: string): SqlUser => {
      const row = people.find((p) => p.username.startsWith(`${role}.`))!;
      return { userId: row.id, tenantId: id, sessionId: row.session_id, role, username: row.username };
    };
    return {
      id,
      slug,
      owner: person("owner"),
      admin: person("admin"),
      manager: person("manager"),
      member: person("member"),
    };
  } catch (error) {
    await client.query("rollback");
    throw error;
  } finally {
    client.release();
  }
}

/** Another person of the tenant holding one built-in role, signed in (committed). */
export async function createSqlUser(db: TestDatabase, tenant: SqlTenant, role: string): Promise<SqlUser> {
  const username = `${role}.${randomBytes(5).toString("hex")}`;
  const userId = await value<string>(
    db.ownerPool,
    `insert into app_public.users (tenant_id, email, username) values ($1, $2 || '@example.test', $2) returning id`,
    [tenant.id, username],
  );
  await db.ownerPool.query(
    `insert into app_public.user_roles (user_id, role_id)
     select $1, id from app_public.roles where tenant_id = $2 and name = $3`,
    [userId, tenant.id, role],
  );
  const sessionId = await value<string>(
    db.ownerPool,
    `insert into app_private.sessions (user_id, tenant_id, expires_at) values ($1, $2, now() + interval '1 day')
     returning id`,
    [userId, tenant.id],
  );
  return { userId, tenantId: tenant.id, sessionId, role, username };
}

/** The SQL test file's database and its two tenants: live bindings, set by useSqlTenants() in beforeAll. */
export let db: TestDatabase;
export let a: SqlTenant;
export let b: SqlTenant;

/**
 * A SQL test file's setup: before its tests, a database of its own and two tenants, A and B (see
 * createSqlTenant); after them, the database dropped.
 */
export function useSqlTenants(): void {
  beforeAll(async () => {
    db = await createTestDatabase();
    [a, b] = await Promise.all([createSqlTenant(db), createSqlTenant(db)]);
  });
  afterAll(() => db.drop());
}
