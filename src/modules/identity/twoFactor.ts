/**
 * TOTP two-factor authentication (RFC 6238) for the AuthService: enrolment with a sealed secret,
 * confirmation with ten recovery codes, and checking a code — each time step once, recovery codes
 * once, failures counted per user: a unit of LIMITS.totpPerUser is taken before a code is checked
 * and given back when it is accepted, so at most `max` wrong codes are ever checked per window,
 * even in parallel.
 */
import type pg from "pg";
import { AppError } from "../../platform/errors.ts";
import { LIMITS, take } from "./limits.ts";
import { recoveryCodes, sha256, type SecretBox } from "../../platform/auth/secrets.ts";
import { matchTotp, newTotpSecret, totpUri } from "./totp.ts";

const TOTP_ISSUER = "Tessera";

export class TwoFactor {
  readonly #pool: pg.Pool;
  readonly #box: SecretBox;

  constructor(pool: pg.Pool, box: SecretBox) {
    this.#pool = pool;
    this.#box = box;
  }

  /** A new pending secret (stored sealed) and its otpauth:// URI. */
  async enrol(userId: string, sessionId: string): Promise<{ secret: string; otpauthUri: string }> {
    const { rows } = await this.#pool.query<{ email: string; enabled: boolean }>(
      `select u.email, s.totp_enabled_at is not null as enabled
       from app_public.users u left join app_private.user_secrets s on s.user_id = u.id where u.id = $1`,
      [userId],
    );
    if (!rows[0]) throw new AppError("UNAUTHENTICATED");
    if (rows[0].enabled) throw enabledAlready();
    const secret = newTotpSecret();
    const started = await this.#pool.query<{ ok: boolean }>(
      `select app_private.start_two_factor($1, $2) as ok ${heldSession("$3")}`,
      [userId, this.#box.seal(secret), sessionId],
    );
    // Turned on by a concurrent confirmation since the check above.
    if (!started.rows[0]?.ok) throw enabledAlready();
    return { secret, otpauthUri: totpUri(secret, TOTP_ISSUER, rows[0].email) };
  }

  /** Turns the pending secret on with a first valid code; answers the recovery codes. */
  async confirm(userId: string, sessionId: string, code: string): Promise<string[]> {
    const { rows } = await this.#pool.query<{ totp_pending_secret: string | null }>(
      "select totp_pending_secret from app_private.user_secrets where user_id = $1",
      [userId],
    );
    const pending = rows[0]?.totp_pending_secret;
    if (!pending)
      throw new AppError("CONFLICT", "Call enableTwoFactor first.", { details: { reason: "NO_PENDING_SECRET" } });
    const unit = await take(this.#pool, [`totp:${userId}`, LIMITS.totpPerUser]);
    const step = await matchTotp(this.#box.open(pending), code);
    if (step === null) throw new AppError("INVALID_TWO_FACTOR_CODE");
    await unit.giveBack();
    const codes = recoveryCodes();
    const { rows: enabled } = await this.#pool.query<{ ok: boolean }>(
      `select app_private.enable_two_factor($1, $2, $3) as ok ${heldSession("$4")}`,
      [userId, step, codes.map(sha256), sessionId],
    );
    if (!enabled[0]?.ok)
      throw new AppError("CONFLICT", "Call enableTwoFactor first.", { details: { reason: "NO_PENDING_SECRET" } });
    return codes;
  }

  /** Checks a TOTP code (each time step once) or an unused recovery code; counts failures. */
  async check(userId: string, code: string): Promise<void> {
    const { rows } = await this.#pool.query<{ totp_secret: string | null }>(
      "select totp_secret from app_private.user_secrets where user_id = $1",
      [userId],
    );
    const sealed = rows[0]?.totp_secret;
    if (!sealed)
      throw new AppError("CONFLICT", "Two-factor authentication is not on.", {
        details: { reason: "TWO_FACTOR_DISABLED" },
      });
    const unit = await take(this.#pool, [`totp:${userId}`, LIMITS.totpPerUser]);
    const step = await matchTotp(this.#box.open(sealed), code);
    const { accepted, known } =
      step !== null
        ? // A code of the current time steps is right: refused only when its step was already used.
          { accepted: await this.#useStep(userId, step), known: true }
        : await this.#useRecoveryCode(userId, sha256(code.trim().toLowerCase()));
    // A right code that was already used (a double submit, a retry, another tab) is refused without
    // spending the budget: it guesses nothing. A wrong code keeps its unit.
    if (accepted || known) await unit.giveBack();
    if (!accepted) throw new AppError("INVALID_TWO_FACTOR_CODE");
  }

  async #useStep(userId: string, step: number): Promise<boolean> {
    const { rows } = await this.#pool.query<{ ok: boolean }>("select app_private.consume_totp_step($1, $2) as ok", [
      userId,
      step,
    ]);
    return rows[0]?.ok === true;
  }

  /** Uses a recovery code once; `known` when it is one of the user's, used or not. */
  async #useRecoveryCode(userId: string, hash: Buffer): Promise<{ accepted: boolean; known: boolean }> {
    // The existence test reads the statement's snapshot: a code this call uses counts as known.
    const { rows } = await this.#pool.query<{ ok: boolean; known: boolean }>(
      `with used as (select app_private.consume_recovery_code($1, $2) as ok)
       select used.ok, exists (select 1 from app_private.recovery_codes c where c.user_id = $1 and c.code_hash = $2)
         as known from used`,
      [userId, hash],
    );
    return { accepted: rows[0]?.ok === true, known: rows[0]?.known === true };
  }

  async disable(userId: string, sessionId: string, code: string): Promise<void> {
    await this.check(userId, code);
    await this.#pool.query(`select app_private.disable_two_factor($1) ${heldSession("$2")}`, [userId, sessionId]);
  }
}

/**
 * The FROM of a 2FA write on the caller's behalf (the user as $1, the session as `sessionParam`): the
 * caller's session checked and share-locked before the write in the same statement
 * (UNAUTHENTICATED when it has ended, a logout committing meanwhile waited for).
 */
const heldSession = (sessionParam: string) => `from app_private.hold_live_session($1, ${sessionParam})`;

function enabledAlready(): AppError {
  return new AppError("CONFLICT", "Two-factor authentication is already on.", {
    details: { reason: "TWO_FACTOR_ENABLED" },
  });
}
