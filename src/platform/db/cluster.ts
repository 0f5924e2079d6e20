/**
 * Roles and databases on a PostgreSQL server we administer (embedded, or one reached with a
 * superuser URL): the owner, authenticator, visitor and bot roles, and the databases they use.
 */
import pg from "pg";
import type { DatabaseUrls } from "../config.ts";
import { quoteLiteral, timed, watchClient } from "./pools.ts";

export interface ClusterRoles {
  owner: string;
  ownerPassword: string;
  authenticator: string;
  authenticatorPassword: string;
  visitor: string;
  /** The role bot requests (REST /api/bot/*) run as; like the visitor, assumed by the authenticator. */
  bot: string;
}

/** The role names for a role prefix: `<prefix>`, `<prefix>_authenticator`, `<prefix>_visitor`, `<prefix>_bot`. */
export function rolesFor(prefix: string, passwords: { owner: string; authenticator: string }): ClusterRoles {
  return {
    owner: prefix,
    ownerPassword: passwords.owner,
    authenticator: `${prefix}_authenticator`,
    authenticatorPassword: passwords.authenticator,
    visitor: `${prefix}_visitor`,
    bot: `${prefix}_bot`,
  };
}

const ident = (name: string) => pg.escapeIdentifier(name);

/** Creates the four roles if they are missing and (re)sets the passwords. Idempotent. */
export async function ensureRoles(rootUrl: string, roles: ClusterRoles): Promise<void> {
  await withClusterLock(rootUrl, async (client) => {
    const create = async (name: string, options: string) => {
      const { rowCount } = await client.query("select 1 from pg_roles where rolname = $1", [name]);
      await client.query(`${rowCount ? "alter" : "create"} role ${ident(name)} with ${options}`);
    };
    const password = (secret: string) => (secret ? `password ${quoteLiteral(secret)}` : "");
    await create(roles.owner, `login nosuperuser nocreaterole ${password(roles.ownerPassword)}`);
    await create(
      roles.authenticator,
      `login noinherit nosuperuser nocreatedb nocreaterole ${password(roles.authenticatorPassword)}`,
    );
    await create(roles.visitor, "nologin nosuperuser nocreatedb nocreaterole");
    await client.query(`grant ${ident(roles.visitor)} to ${ident(roles.authenticator)}`);
    await create(roles.bot, "nologin nosuperuser nocreatedb nocreaterole");
    await client.query(`grant ${ident(roles.bot)} to ${ident(roles.authenticator)}`);
  });
}

/**
 * Runs `fn` holding the server's bootstrap lock. Commands starting at once against one server
 * (parallel CI runs, a cron task beside a manual one) each make sure of the roles and databases:
 * PostgreSQL refuses two concurrent changes of one catalog row ("tuple concurrently updated").
 */
async function withClusterLock(rootUrl: string, fn: (client: pg.Client) => Promise<void>): Promise<void> {
  await withClient(rootUrl, async (client) => {
    await client.query("select pg_advisory_lock(7438211)");
    try {
      await fn(client);
    } finally {
      await client.query("select pg_advisory_unlock(7438211)");
    }
  });
}

/**
 * Creates a database owned by the owner role (optionally as a copy of a template) and limits who
 * may connect to it. Database-level grants are not copied from templates, so they live here.
 */
export async function ensureDatabase(
  rootUrl: string,
  name: string,
  roles: ClusterRoles,
  template?: string,
): Promise<void> {
  await withClusterLock(rootUrl, async (client) => {
    const { rowCount } = await client.query("select 1 from pg_database where datname = $1", [name]);
    if (!rowCount) {
      const source = template ? ` template ${ident(template)}` : " encoding 'UTF8'";
      await client.query(`create database ${ident(name)} owner ${ident(roles.owner)}${source}`);
    }
    await client.query(`revoke all on database ${ident(name)} from public`);
    await client.query(`grant all on database ${ident(name)} to ${ident(roles.owner)}`);
    await client.query(`grant connect on database ${ident(name)} to ${ident(roles.authenticator)}`);
  });
}

export async function dropDatabase(rootUrl: string, name: string): Promise<void> {
  await withClient(rootUrl, (client) => client.query(`drop database if exists ${ident(name)} with (force)`));
}

/** Connection strings for a database on the server behind `rootUrl`. */
export function databaseUrls(
  rootUrl: string,
  database: string,
  roles: ClusterRoles,
  shadowDatabase?: string,
): DatabaseUrls {
  const at = (user: string, password: string, db: string) => {
    const url = new URL(rootUrl);
    url.username = encodeURIComponent(user);
    url.password = encodeURIComponent(password);
    url.pathname = `/${db}`;
    return url.toString();
  };
  return {
    ownerUrl: at(roles.owner, roles.ownerPassword, database),
    authenticatorUrl: at(roles.authenticator, roles.authenticatorPassword, database),
    visitorRole: roles.visitor,
    botRole: roles.bot,
    shadowUrl: shadowDatabase ? at(roles.owner, roles.ownerPassword, shadowDatabase) : undefined,
    rootUrl: (() => {
      const url = new URL(rootUrl);
      url.pathname = `/${database}`;
      return url.toString();
    })(),
  };
}

export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  // No logger here: a lost connection fails the statement in flight, which the caller sees.
  const client = watchClient(new pg.Client(timed({ connectionString: url })), undefined, "admin");
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * For an external server reached with ROOT_DATABASE_URL: creates the roles and database that the
 * configured URLs name (user names and passwords are taken from them). Idempotent.
 */
export async function ensureClusterFor(urls: DatabaseUrls): Promise<void> {
  if (!urls.rootUrl) return;
  const owner = new URL(urls.ownerUrl);
  const authenticator = new URL(urls.authenticatorUrl);
  const roles: ClusterRoles = {
    owner: decodeURIComponent(owner.username),
    ownerPassword: decodeURIComponent(owner.password),
    authenticator: decodeURIComponent(authenticator.username),
    authenticatorPassword: decodeURIComponent(authenticator.password),
    visitor: urls.visitorRole,
    bot: urls.botRole,
  };
  await ensureRoles(urls.rootUrl, roles);
  await ensureDatabase(urls.rootUrl, decodeURIComponent(owner.pathname.slice(1)), roles);
}
