/** Who is asking, as identity's flows need it: rate-limit keys, the caller's claims, the tenant by slug. */
import { isIP } from "node:net";
import type pg from "pg";
import type { AccessClaims } from "../../platform/auth/tokens.ts";
import { AppError } from "../../platform/errors.ts";
import type { Caller } from "../../platform/graphql/context.ts";

/** Asks the captcha service whether the token was solved by this caller. */
export type CaptchaVerifier = (token: string | null | undefined, caller: Caller) => Promise<boolean>;

/** The active tenant with this slug (a suspended or unknown one is undefined). */
export async function activeTenantId(pool: pg.Pool, slug: string): Promise<string | undefined> {
  const { rows } = await pool.query<{ id: string }>(
    "select id from app_public.tenants where slug = $1 and status = 'active'",
    [slug],
  );
  return rows[0]?.id;
}

/**
 * How rate-limit keys name a tenant: its id, or the typed slug when no active tenant has it (so
 * that guessing at tenants that do not exist is limited too).
 */
export function limitKeyOfTenant(tenantId: string | undefined, slug: string): string {
  return tenantId ?? `slug:${slug}`;
}

/** The per-IP bucket's name: the client address Express derived (TRUST_PROXY decides whom to believe). */
export function ipOf(caller: Caller): string {
  return caller.ip ?? "unknown";
}

/** The client address as PostgreSQL's inet reads it; null when there is none that is an IP address. */
export function inetOf(caller: Caller): string | null {
  return caller.ip !== undefined && isIP(caller.ip) !== 0 ? caller.ip : null;
}

export function requireClaims(caller: Caller): AccessClaims {
  if (!caller.claims) throw new AppError("UNAUTHENTICATED", "Sign in first.");
  return caller.claims;
}
