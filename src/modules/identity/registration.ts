/**
 * Registration in two steps: an issued registration with an e-mailed code (the same answer whether
 * or not the e-mail is taken, and for a tenant that does not exist), then the account from the code.
 */
import type pg from "pg";
import { randomToken, sha256, sixDigitCode } from "../../platform/auth/secrets.ts";
import { AppError } from "../../platform/errors.ts";
import type { Caller } from "../../platform/graphql/context.ts";
import { activeTenantId, type CaptchaVerifier, ipOf, limitKeyOfTenant } from "./callers.ts";
import { checkedUnder, LIMITS, REGISTRATION_MAX_ATTEMPTS, take } from "./limits.ts";
import { checkPasswordPolicy, hashPassword } from "./passwords.ts";
import type { SessionAnswer, Sessions } from "./sessions.ts";
import { parseInput, schemas } from "./validation.ts";

const REGISTRATION_TTL_SECONDS = 15 * 60;

export class Registrations {
  readonly #pool: pg.Pool;
  readonly #sessions: Sessions;
  readonly #verifyCaptcha: CaptchaVerifier | undefined;

  constructor(pool: pg.Pool, sessions: Sessions, verifyCaptcha: CaptchaVerifier | undefined) {
    this.#pool = pool;
    this.#sessions = sessions;
    this.#verifyCaptcha = verifyCaptcha;
  }

  /** Stores an issued registration and e-mails its code; the same answer whether or not the e-mail is taken. */
  async register(input: unknown, caller: Caller): Promise<{ registrationToken: string; expiresAt: string }> {
    const data = parseInput(schemas.register, input);
    checkPasswordPolicy(data.password);
    // Per IP before the captcha service is asked; then per tenant and per e-mail, before any hashing.
    const perIp = await take(this.#pool, [`register:ip:${ipOf(caller)}`, LIMITS.registrationPerIp]);
    if (this.#verifyCaptcha && !(await this.#verifyCaptcha(data.captchaToken, caller))) {
      throw new AppError("VALIDATION_FAILED", "The captcha was not solved.", {
        details: { fields: { captchaToken: "invalid" } },
      });
    }
    const tenantId = await activeTenantId(this.#pool, data.tenant);
    const tenantKey = limitKeyOfTenant(tenantId, data.tenant);
    const perTenant = await take(
      this.#pool,
      [`register:tenant:${tenantKey}`, LIMITS.registrationPerTenant],
      [`register:email:${tenantKey}:${data.email}`, LIMITS.registrationPerEmail],
    );
    const registrationToken = randomToken();
    const expiresAt = new Date(Date.now() + REGISTRATION_TTL_SECONDS * 1000).toISOString();
    // The same answer for a tenant that does not exist, without the argon2 work (tenants are not secret).
    if (!tenantId) return { registrationToken, expiresAt };
    const passwordHash = await checkedUnder([perIp, perTenant], hashPassword(data.password));
    const code = sixDigitCode();
    const { rows } = await this.#pool.query<{ status: string }>(
      "select app_private.issue_registration($1, $2, $3, $4, $5, $6, $7, $8, make_interval(secs => $9)) as status",
      [
        tenantId,
        data.email,
        data.username,
        data.fullName ?? null,
        passwordHash,
        sha256(registrationToken),
        sha256(code),
        code,
        REGISTRATION_TTL_SECONDS,
      ],
    );
    if (rows[0]?.status === "username_taken") {
      throw new AppError("CONFLICT", "That username is taken.", { details: { reason: "USERNAME_TAKEN" } });
    }
    return { registrationToken, expiresAt };
  }

  /** Creates the user from an issued registration and signs them in. */
  async confirm(input: unknown, caller: Caller): Promise<SessionAnswer> {
    const data = parseInput(schemas.confirmRegistration, input);
    // A registration confirmed already checks no code: the answer costs nothing (a confirm page
    // that retries, or many people behind one address, must not spend the IP's budget).
    const { rows: used } = await this.#pool.query(
      "select 1 from app_private.registrations r where r.token_hash = $1 and r.confirmed_at is not null",
      [sha256(data.registrationToken)],
    );
    if (used.length > 0) throw usedRegistration();
    // Every code checked holds a unit of the IP's budget; only a wrong, locked or unknown one keeps it.
    const unit = await take(this.#pool, [`confirm:ip:${ipOf(caller)}`, LIMITS.confirmRegistrationPerIp]);
    const { rows } = await this.#pool.query<{ status: string; user_id: string | null }>(
      "select * from app_private.confirm_registration($1, $2, $3)",
      [sha256(data.registrationToken), sha256(data.code), REGISTRATION_MAX_ATTEMPTS],
    );
    const { status, user_id: userId } = rows[0] ?? { status: "invalid", user_id: null };
    if (status === "confirmed" || status === "email_taken" || status === "username_taken") await unit.giveBack();
    switch (status) {
      case "confirmed":
        return this.#sessions.issue(userId!, caller);
      case "wrong_code":
        throw new AppError("INVALID_TOKEN", "The code is not valid.", { details: { reason: "WRONG_CODE" } });
      case "locked":
        throw new AppError("INVALID_TOKEN", "Too many wrong codes: this registration is locked. Register again.", {
          details: { reason: "LOCKED" },
        });
      case "used":
        throw usedRegistration();
      case "email_taken":
      case "username_taken":
        throw new AppError("CONFLICT", "The account can no longer be created.", {
          details: { reason: status.toUpperCase() },
        });
      default:
        throw new AppError("INVALID_TOKEN", "The registration is unknown or has expired.", {
          details: { reason: "EXPIRED" },
        });
    }
  }
}

function usedRegistration(): AppError {
  return new AppError("INVALID_TOKEN", "This registration has been confirmed already: sign in.", {
    details: { reason: "USED" },
  });
}
