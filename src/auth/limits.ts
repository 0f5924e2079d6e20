/**
 * Rate limits of the identity module, kept in PostgreSQL (app_private.rate_limits): fixed windows
 * per key. `guard` refuses with RATE_LIMITED (and Retry-After) before the work; `hit` counts an
 * attempt afterwards, in its own statement so that the count survives the refusal that follows.
 */
import type pg from "pg";
import { AppError } from "../errors.ts";

export interface Limit {
  max: number;
  windowSeconds: number;
}

export const LIMITS = {
  /** Failed logins per account (tenant + identifier). */
  loginPerAccount: { max: 10, windowSeconds: 15 * 60 },
  /** Failed logins per client IP. */
  loginPerIp: { max: 50, windowSeconds: 15 * 60 },
  /** Registrations issued per e-mail address (each allows REGISTRATION_MAX_ATTEMPTS guesses). */
  registrationPerEmail: { max: 5, windowSeconds: 60 * 60 },
  /** Forgotten-password requests per e-mail address, whether or not it exists. */
  forgotPasswordPerEmail: { max: 3, windowSeconds: 60 * 60 },
  /** Wrong TOTP or recovery codes per user. */
  totpPerUser: { max: 5, windowSeconds: 5 * 60 },
} as const satisfies Record<string, Limit>;

/** Wrong codes before an issued registration is locked for good. */
export const REGISTRATION_MAX_ATTEMPTS = 5;

export async function guard(pool: pg.Pool, key: string, limit: Limit): Promise<void> {
  const { rows } = await pool.query<{ retry_after: number }>(
    "select app_private.rate_limit_retry_after($1, $2, make_interval(secs => $3)) as retry_after",
    [key, limit.max, limit.windowSeconds],
  );
  const retryAfter = rows[0]?.retry_after ?? 0;
  if (retryAfter > 0) throw new AppError("RATE_LIMITED", undefined, { retryAfter, details: { retryAfter } });
}

export async function hit(pool: pg.Pool, key: string, limit: Limit): Promise<void> {
  await pool.query("select app_private.rate_limit_hit($1, make_interval(secs => $2))", [key, limit.windowSeconds]);
}
