/** Rows and tokens for tests, written with the owner role (as the bootstrap would). */
import { randomBytes, randomUUID } from "node:crypto";
import type pg from "pg";
import { signAccessToken } from "../../src/auth/tokens.ts";

export const TEST_JWT_SECRET = "test-jwt-secret-that-is-long-enough-for-prod";

export interface TestTenant {
  id: string;
  slug: string;
}

export interface TestUser {
  id: string;
  tenantId: string;
  email: string;
  role: string;
  token: string;
}

export async function createTenant(pool: pg.Pool, slug = `t-${randomBytes(4).toString("hex")}`): Promise<TestTenant> {
  const { rows } = await pool.query<{ id: string }>("insert into app_public.tenants (slug, name) values ($1, $2) returning id", [slug, slug]);
  return { id: rows[0]!.id, slug };
}

export async function createUser(pool: pg.Pool, tenant: TestTenant, role = "member"): Promise<TestUser> {
  const username = `u${randomBytes(4).toString("hex")}`;
  const email = `${username}@example.test`;
  const { rows } = await pool.query<{ id: string }>(
    "insert into app_public.users (tenant_id, email, username) values ($1, $2, $3) returning id",
    [tenant.id, email, username],
  );
  const id = rows[0]!.id;
  return { id, tenantId: tenant.id, email, role, token: mintToken({ sub: id, tid: tenant.id, role }) };
}

/** Until identity issues real sessions, tests sign access tokens themselves. */
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
