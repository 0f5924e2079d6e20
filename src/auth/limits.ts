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

/**
 * The time the windows are computed from: PostgreSQL's now() unless a clock is set. Tests set one
 * (setRateLimitClock) to count attempts inside one window, or to step past it, without waiting.
 */
let clock: (() => Date) | undefined;

export function setRateLimitClock(next: (() => Date) | undefined): void {
  clock = next;
}

// What app_private.rate_limit_retry_after and rate_limit_hit do, with the time as a parameter
// ($4 / $3; null = now()). Windows are fixed and aligned to 2000-01-01.
const RETRY_AFTER_SQL = `
  select case
    when coalesce((select r.hits from app_private.rate_limits r where r.key = $1 and r.window_start = date_bin(t.len, t.at, timestamptz '2000-01-01')), 0) >= $2
    then greatest(1, ceil(extract(epoch from (date_bin(t.len, t.at, timestamptz '2000-01-01') + t.len - t.at))))::integer
    else 0 end as retry_after
  from (select coalesce($4::timestamptz, now()) as at, make_interval(secs => $3) as len) t`;
const HIT_SQL = `
  insert into app_private.rate_limits as r (key, window_start, hits)
    values ($1, date_bin(make_interval(secs => $2), coalesce($3::timestamptz, now()), timestamptz '2000-01-01'), 1)
    on conflict on constraint rate_limits_pkey do update set hits = r.hits + 1`;

export async function guard(pool: pg.Pool, key: string, limit: Limit): Promise<void> {
  const { rows } = await pool.query<{ retry_after: number }>(RETRY_AFTER_SQL, [key, limit.max, limit.windowSeconds, clock?.() ?? null]);
  const retryAfter = rows[0]?.retry_after ?? 0;
  if (retryAfter > 0) throw new AppError("RATE_LIMITED", undefined, { retryAfter, details: { retryAfter } });
}

export async function hit(pool: pg.Pool, key: string, limit: Limit): Promise<void> {
  await pool.query(HIT_SQL, [key, limit.windowSeconds, clock?.() ?? null]);
}
