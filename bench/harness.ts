/** Shared set-up of the benchmarks: the configured (or embedded) database, a tenant, users, tokens. */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { hashPassword } from "../src/modules/identity/passwords.ts";
import { randomToken, sha256 } from "../src/platform/auth/secrets.ts";
import { signAccessToken } from "../src/platform/auth/tokens.ts";
import { loadConfig, MODULES } from "../src/modules/index.ts";
import type { Config } from "../src/platform/config.ts";
import { migrateDatabase } from "../src/platform/db/migrate.ts";
import { resolveDatabase, type ResolvedDatabase } from "../src/platform/db/resolve.ts";
import { prepareTenant } from "../src/platform/modules.ts";
import { createLogger, type Logger } from "../src/platform/logger.ts";

export interface Bench {
  config: Config;
  logger: Logger;
  database: ResolvedDatabase;
  /** Owner-role pool for set-up queries. */
  owner: pg.Pool;
  close(): Promise<void>;
}

export async function openBench(): Promise<Bench> {
  const logger = createLogger("warn");
  const config = loadConfig();
  const database = await resolveDatabase(config, logger);
  await migrateDatabase(database.urls, logger);
  const owner = new pg.Pool({ connectionString: database.urls.ownerUrl });
  return {
    config,
    logger,
    database,
    owner,
    async close() {
      await owner.end();
      await database.stop();
    },
  };
}

/** A tenant ready for use (roles, modules); reused if it exists. */
export async function benchTenant(bench: Bench, slug: string): Promise<string> {
  const { rows } = await bench.owner.query<{ id: string }>(
    `insert into app_public.tenants (slug, name) values ($1, $2)
     on conflict (slug) do update set name = excluded.name returning id`,
    [slug, slug],
  );
  await prepareTenant(MODULES, bench.owner, rows[0]!.id);
  return rows[0]!.id;
}

/** A user with a built-in role (and a password, if given); reused if the e-mail exists. */
export async function benchUser(
  bench: Bench,
  tenantId: string,
  username: string,
  role: string,
  password?: string,
): Promise<string> {
  const { rows } = await bench.owner.query<{ id: string }>(
    `insert into app_public.users (tenant_id, email, username) values ($1, $2, $3)
     on conflict (tenant_id, email) do update set email = excluded.email returning id`,
    [tenantId, `${username}@example.test`, username],
  );
  const userId = rows[0]!.id;
  await bench.owner.query(
    `insert into app_public.user_roles (user_id, role_id)
     select $1, id from app_public.roles where tenant_id = $2 and name = $3 on conflict do nothing`,
    [userId, tenantId, role],
  );
  if (password) {
    await bench.owner.query(
      `insert into app_private.user_secrets (user_id, password_hash) values ($1, $2)
       on conflict (user_id) do update
       set password_hash = excluded.password_hash, totp_secret = null, totp_enabled_at = null`,
      [userId, await hashPassword(password)],
    );
  }
  return userId;
}

/** A live session for the user and an access token for it. */
export async function benchSession(
  bench: Bench,
  userId: string,
  tenantId: string,
  role: string,
): Promise<{ sessionId: string; token: string }> {
  const { rows } = await bench.owner.query<{ id: string }>(
    "select app_private.create_session($1, $2, interval '1 day', 'bench', null) as id",
    [userId, sha256(randomToken())],
  );
  const sessionId = rows[0]!.id;
  return {
    sessionId,
    token: signAccessToken(
      { sub: userId, tid: tenantId, sid: sessionId, jti: randomUUID(), role },
      bench.config.jwtSecret,
      3600,
    ),
  };
}
