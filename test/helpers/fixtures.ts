/** Rows, sessions and tokens for tests, written with the owner role (as the bootstrap would). */
import { randomBytes, randomUUID } from "node:crypto";
import type pg from "pg";
import { hashPassword } from "../../src/modules/identity/passwords.ts";
import { randomToken, sha256 } from "../../src/platform/auth/secrets.ts";
import { signAccessToken } from "../../src/platform/auth/tokens.ts";
import { MODULES } from "../../src/modules/index.ts";
import { prepareTenant as prepareWith } from "../../src/platform/modules.ts";

export const TEST_JWT_SECRET = "test-jwt-secret-that-is-long-enough-for-prod";

/** Switches a module on or off for the caller's tenant ($module, $enabled). */
export const SET_TENANT_MODULE = `mutation($module: String!, $enabled: Boolean!) {
  setTenantModule(input: { module: $module, enabled: $enabled }) { clientMutationId }
}`;

export interface TestTenant {
  id: string;
  slug: string;
}

export interface TestUser {
  id: string;
  tenantId: string;
  email: string;
  username: string;
  role: string;
  sessionId: string;
  /** An access token for a real, live session of this user. */
  token: string;
}

/** A tenant with its built-in roles, system user and every module on (what the tenant_created consumers make). */
export async function createTenant(pool: pg.Pool, slug = `t-${randomBytes(4).toString("hex")}`): Promise<TestTenant> {
  const { rows } = await pool.query<{ id: string }>(
    "insert into app_public.tenants (slug, name) values ($1, $2) returning id",
    [slug, slug],
  );
  const id = rows[0]!.id;
  await prepareWith(MODULES, pool, id);
  return { id, slug };
}

/** A user holding one built-in role, optionally with a password, signed in with a live session. */
export async function createUser(
  pool: pg.Pool,
  tenant: TestTenant,
  role = "member",
  options: { password?: string } = {},
): Promise<TestUser> {
  const username = `u${randomBytes(4).toString("hex")}`;
  const email = `${username}@example.test`;
  const { rows } = await pool.query<{ id: string }>(
    "insert into app_public.users (tenant_id, email, username) values ($1, $2, $3) returning id",
    [tenant.id, email, username],
  );
  const id = rows[0]!.id;
  await grantRole(pool, id, tenant.id, role);
  await pool.query("insert into app_private.user_secrets (user_id, password_hash) values ($1, $2)", [
    id,
    options.password ? await hashPassword(options.password) : null,
  ]);
  const sessionId = await createSession(pool, id);
  return {
    id,
    tenantId: tenant.id,
    email,
    username,
    role,
    sessionId,
    token: mintToken({ sub: id, tid: tenant.id, role, sid: sessionId }),
  };
}

/** Gives a user one more of the tenant's roles (its permissions apply at once). */
export async function grantRole(pool: pg.Pool, userId: string, tenantId: string, role: string): Promise<void> {
  await pool.query(
    "insert into app_public.user_roles (user_id, role_id) select $1, id from app_public.roles where " +
      "tenant_id = $2 and name = $3",
    [userId, tenantId, role],
  );
}

export async function createSession(pool: pg.Pool, userId: string): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    "select app_private.create_session($1, $2, interval '1 day', 'test', null) as id",
    [userId, sha256(randomToken())],
  );
  return rows[0]!.id;
}

/** Signs an access token directly (for tokens the server would never issue: expired, forged…). */
export function mintToken(
  claims: { sub: string; tid: string; role: string; sid?: string },
  options: { secret?: string; ttlSeconds?: number } = {},
): string {
  return signAccessToken(
    { sub: claims.sub, tid: claims.tid, role: claims.role, sid: claims.sid ?? randomUUID(), jti: randomUUID() },
    options.secret ?? TEST_JWT_SECRET,
    options.ttlSeconds ?? 900,
  );
}
