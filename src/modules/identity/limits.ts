/**
 * Rate limits of the identity module, kept in PostgreSQL (app_private.rate_limits): fixed windows
 * per key, aligned to 2000-01-01.
 *
 * Counting happens BEFORE the work, atomically: `take` adds one unit to each bucket with a single
 * `insert … on conflict do update set hits = hits + 1 where hits < max returning hits` (the row
 * lock serialises concurrent takers), and refuses with RATE_LIMITED (and Retry-After) when a
 * bucket is full. So N parallel attempts never get more than `max` units between them: at most
 * `max` checks (password, TOTP, code) are performed per window, whatever the parallelism. A refused
 * attempt leaves no count (nor in the buckets taken before the full one).
 *
 * Limits on failures reserve a unit first and give it back (`giveBack`) when the attempt succeeds:
 * the units held at any time are the failures plus the checks still in flight, never more than
 * `max`. Each statement runs on its own (no surrounding transaction), so a unit counts as soon as it
 * is taken and stays counted when the request then fails.
 */
import type pg from "pg";
import { AppError } from "../../platform/errors.ts";

export interface Limit {
  max: number;
  windowSeconds: number;
}

const MINUTE = 60;
const HOUR = 60 * MINUTE;

export const LIMITS = {
  /**
   * Failed logins per account: the user id when the tenant and identifier name a user (e-mail and
   * username share it, in any case), else the tenant (or typed slug) and the lower-cased typed
   * identifier, so guessing at an unknown account costs the same.
   */
  loginPerAccount: { max: 10, windowSeconds: 15 * MINUTE },
  /** Failed logins per client IP (a shared office or NAT stays well below). */
  loginPerIp: { max: 50, windowSeconds: 15 * MINUTE },
  /** Registrations per client IP: a person registers once; a classroom behind one NAT fits. */
  registrationPerIp: { max: 20, windowSeconds: HOUR },
  /**
   * Registrations per tenant (or typed slug of an unknown one): caps the argon2 and e-mail work one tenant
   * can cause.
   */
  registrationPerTenant: { max: 200, windowSeconds: HOUR },
  /** Registrations issued per e-mail address (each allows REGISTRATION_MAX_ATTEMPTS guesses). */
  registrationPerEmail: { max: 5, windowSeconds: HOUR },
  /**
   * Wrong or unknown registration codes per client IP (a registration itself locks after
   * REGISTRATION_MAX_ATTEMPTS).
   */
  confirmRegistrationPerIp: { max: 30, windowSeconds: HOUR },
  /** Forgotten-password requests per client IP. */
  forgotPasswordPerIp: { max: 10, windowSeconds: HOUR },
  /** Forgotten-password requests per tenant (or typed slug of an unknown one): caps the reset e-mails. */
  forgotPasswordPerTenant: { max: 100, windowSeconds: HOUR },
  /** Forgotten-password requests per e-mail address, whether or not it exists. */
  forgotPasswordPerEmail: { max: 3, windowSeconds: HOUR },
  /** Wrong current passwords in changePassword per user (a stolen access token must not become a password oracle). */
  changePasswordPerUser: { max: 5, windowSeconds: 15 * MINUTE },
  /** Wrong TOTP or recovery codes per user (login challenge, enrolment and disabling alike). */
  totpPerUser: { max: 5, windowSeconds: 5 * MINUTE },
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

// $1 key, $2 max, $3 window length in seconds, $4 the time (null = now()). `hits` is null when the
// bucket was full (the conditional update did not happen); retry_after is the rest of the window.
// The windows live in app_private.rate_limits; taking and giving back are SQL functions.
const TAKE_SQL = "select hits, window_start, retry_after from app_private.take_rate_limit($1, $2, $3, $4)";
const GIVE_BACK_SQL = "select app_private.give_back_rate_limit($1, $2)";

/** Units taken by one attempt; `giveBack` returns them (once) to the windows they were taken from. */
export interface Taken {
  giveBack(): Promise<void>;
}

/**
 * Awaits the password work of an attempt that took `units`. When it throws instead of answering
 * (too many password checks in line: 503), the attempt was never made, so the units go back.
 */
export async function checkedUnder<T>(units: Taken | readonly Taken[], work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    for (const taken of ([] as Taken[]).concat(units)) await taken.giveBack();
    throw error;
  }
}

/**
 * Takes one unit from each bucket, in order, or none: when one is full the units already taken
 * are given back and RATE_LIMITED is thrown with the seconds left in the full bucket's window.
 */
export async function take(pool: pg.Pool, ...buckets: Array<readonly [key: string, limit: Limit]>): Promise<Taken> {
  const units: Array<{ key: string; windowStart: Date }> = [];
  const taken: Taken = {
    async giveBack() {
      for (const unit of units.splice(0)) await pool.query(GIVE_BACK_SQL, [unit.key, unit.windowStart]);
    },
  };
  for (const [key, limit] of buckets) {
    const { rows } = await pool.query<{ hits: number | null; window_start: Date; retry_after: number }>(TAKE_SQL, [
      key,
      limit.max,
      limit.windowSeconds,
      clock?.() ?? null,
    ]);
    const row = rows[0]!;
    if (row.hits === null) {
      await taken.giveBack();
      throw new AppError("RATE_LIMITED", undefined, {
        retryAfter: row.retry_after,
        details: { retryAfter: row.retry_after },
      });
    }
    units.push({ key, windowStart: row.window_start });
  }
  return taken;
}
