/**
 * The identity lifecycle, once, for every transport: GraphQL mutations (src/modules/identity/graphql.ts)
 * and REST routes (src/modules/identity/restAuth.ts) are thin adapters over these methods. State changes happen
 * in SQL functions (migration 000002); this service hashes, signs, generates and verifies.
 *
 * Rate limits (src/modules/identity/limits.ts) are taken before the work they guard, so parallel requests
 * cannot pass them; limits on failures give their unit back when the attempt succeeds. No argon2
 * work is done for a tenant that does not exist (login, register) nor for a reset token that is
 * not valid: tenant slugs are not secret, accounts are — an unknown account of an existing tenant
 * still costs one argon2 verification, like a known one.
 */
import type pg from "pg";
import type { IdentityConfig } from "./config.ts";
import { AppError } from "../../platform/errors.ts";
import type { Logger } from "../../platform/logger.ts";
import { checkedUnder, LIMITS, take } from "./limits.ts";
import { checkPasswordPolicy, hashPassword, verifyPassword } from "./passwords.ts";
import { makeSecretBox, randomToken, sha256 } from "../../platform/auth/secrets.ts";
import type { SessionCheck } from "../../platform/auth/sessionCheck.ts";
import { makeRefreshTokenSuccessor } from "../../platform/auth/tokens.ts";
import { prepared } from "../../platform/db/pools.ts";
import type { Caller } from "../../platform/graphql/context.ts";
import { activeTenantId, type CaptchaVerifier, inetOf, ipOf, limitKeyOfTenant, requireClaims } from "./callers.ts";
import { Registrations } from "./registration.ts";
import {
  SESSION_USER_COLUMNS,
  SESSION_USER_TABLES,
  Sessions,
  type SessionAnswer,
  type SessionUserRow,
} from "./sessions.ts";
import { TwoFactor } from "./twoFactor.ts";
import { parseInput, schemas } from "./validation.ts";

export type { Caller } from "../../platform/graphql/context.ts";

const PASSWORD_RESET_TTL_SECONDS = 60 * 60;
const REFRESH_REUSE_GRACE_SECONDS = 10;
/**
 * A refresh in one round trip: the rotation (a volatile function in a CTE runs exactly once), then
 * the user of a rotated session with their roles. Its row locks are held to the statement's end.
 * Prepared (a named statement): each connection parses and plans it once.
 */
const ROTATE_AND_READ_USER = `with rotated as (
    select * from app_private.rotate_refresh_token($1, $2, make_interval(secs => $3))
  )
  select rotated.status, rotated.session_id, ${SESSION_USER_COLUMNS}
  from rotated
  left join (${SESSION_USER_TABLES}) on u.id = rotated.user_id and rotated.status = 'ok'
  group by rotated.status, rotated.session_id, u.id`;

export class AuthService {
  readonly #pool: pg.Pool;
  readonly #config: IdentityConfig;
  readonly #twoFactor: TwoFactor;
  readonly #refreshSuccessor: (presented: string) => string;
  readonly #sessions: Sessions;
  readonly #registrations: Registrations;
  readonly #checkSession: SessionCheck;

  /**
   * `checkSession` is the request's session check, made again before each write on a signed-in
   * caller's behalf: the caller's request passed it when its headers arrived, and the session may
   * have ended since (a body sent slowly, or `logout` earlier in the same GraphQL operation).
   */
  constructor(
    pool: pg.Pool,
    config: IdentityConfig,
    logger: Logger,
    checkSession: SessionCheck,
    verifyCaptcha?: CaptchaVerifier,
  ) {
    this.#pool = pool;
    this.#checkSession = checkSession;
    this.#config = config;
    this.#twoFactor = new TwoFactor(pool, makeSecretBox(config.totpEncodeSecret));
    this.#refreshSuccessor = makeRefreshTokenSuccessor(config.jwtSecret);
    this.#sessions = new Sessions(pool, config, logger);
    this.#registrations = new Registrations(pool, this.#sessions, verifyCaptcha);
  }

  /** Stores an issued registration and e-mails its code; the same answer whether or not the e-mail is taken. */
  register(input: unknown, caller: Caller): Promise<{ registrationToken: string; expiresAt: string }> {
    return this.#registrations.register(input, caller);
  }

  /** Creates the user from an issued registration and signs them in. */
  confirmRegistration(input: unknown, caller: Caller): Promise<SessionAnswer> {
    return this.#registrations.confirm(input, caller);
  }

  /** Password login; with 2FA on, answers a challenge instead of a session. */
  async login(input: unknown, caller: Caller): Promise<SessionAnswer> {
    const data = parseInput(schemas.login, input);
    const tenantId = await activeTenantId(this.#pool, data.tenant);
    const candidate = tenantId
      ? (
          await this.#pool.query<{
            user_id: string | null;
            password_hash: string | null;
            totp_enabled: boolean | null;
            known_address: boolean;
          }>(
            "select c.*, app_private.known_sign_in_address(c.user_id, $3) as known_address " +
              "from app_private.login_candidate($1, $2) c",
            [tenantId, data.login, inetOf(caller)],
          )
        ).rows[0]
      : undefined;
    // The account bucket is the user (e-mail and username share it); an unknown identifier has
    // its own, so guessing at it is limited the same way. From an address the user has signed in
    // from (known_sign_in_address), failures count in a bucket of that address: someone guessing
    // from elsewhere cannot lock the owner out.
    const accountKey = candidate?.user_id
      ? `login:user:${candidate.user_id}${candidate.known_address ? `:known:${ipOf(caller)}` : ""}`
      : `login:unknown:${limitKeyOfTenant(tenantId, data.tenant)}:${data.login.toLowerCase()}`;
    const units = await take(
      this.#pool,
      [`login:ip:${ipOf(caller)}`, LIMITS.loginPerIp],
      [accountKey, LIMITS.loginPerAccount],
    );
    // An unknown account of an existing tenant costs one argon2 run like a known one; an unknown tenant none.
    const valid = tenantId
      ? await checkedUnder(units, verifyPassword(data.password, candidate?.user_id ? candidate.password_hash : null))
      : false;
    if (!valid || !candidate?.user_id) {
      await this.#audit("login_failed", caller, { tenantId, userId: candidate?.user_id ?? undefined });
      throw new AppError("INVALID_CREDENTIALS");
    }
    await units.giveBack();
    await this.#audit("login_succeeded", caller, {
      tenantId,
      userId: candidate.user_id,
      details: { twoFactor: Boolean(candidate.totp_enabled) },
    });
    if (candidate.totp_enabled) {
      const twoFactorToken = randomToken();
      await this.#pool.query("select app_private.issue_two_factor_challenge($1, $2, make_interval(secs => $3))", [
        candidate.user_id,
        sha256(twoFactorToken),
        this.#config.twoFactorTokenTtlSeconds,
      ]);
      return {
        accessToken: null,
        refreshToken: null,
        accessTokenExpiresAt: null,
        user: null,
        twoFactorRequired: true,
        twoFactorToken,
      };
    }
    return this.#sessions.issue(candidate.user_id, caller);
  }

  /** Second step of a two-step login: a TOTP or recovery code for the challenge. */
  async verifyTwoFactor(input: unknown, caller: Caller): Promise<SessionAnswer> {
    const data = parseInput(schemas.verifyTwoFactor, input);
    const challenge = sha256(data.twoFactorToken);
    const { rows } = await this.#pool.query<{ user_id: string | null }>(
      "select app_private.two_factor_challenge_user($1) as user_id",
      [challenge],
    );
    const userId = rows[0]?.user_id;
    if (!userId) throw new AppError("INVALID_TOKEN", "The two-factor challenge is unknown or has expired.");
    await this.#twoFactor.check(userId, data.code);
    const used = await this.#pool.query<{ used: boolean }>(
      "select app_private.consume_two_factor_challenge($1) as used",
      [challenge],
    );
    if (!used.rows[0]?.used) throw new AppError("INVALID_TOKEN", "The two-factor challenge was already used.");
    return this.#sessions.issue(userId, caller);
  }

  /**
   * Rotates the refresh token; a reused one revokes the session (TOKEN_REUSED). The successor is
   * derived from the presented token, so concurrent presentations (and a retry of a lost answer)
   * within the grace window all get the same new refresh token; the access token is signed anew.
   */
  async refreshSession(input: unknown, caller: Caller): Promise<SessionAnswer> {
    const data = parseInput(schemas.refreshSession, input);
    const refreshToken = this.#refreshSuccessor(data.refreshToken);
    // One statement: the rotation, then the session's user read back for the answer.
    const { rows } = await this.#pool.query<{ status: string; session_id: string | null } & Partial<SessionUserRow>>(
      prepared(ROTATE_AND_READ_USER, [sha256(data.refreshToken), sha256(refreshToken), REFRESH_REUSE_GRACE_SECONDS]),
    );
    const row = rows[0];
    if (row?.status === "reused") {
      await this.#audit("refresh_token_reused", caller, {});
      throw new AppError("TOKEN_REUSED");
    }
    if (row?.status !== "ok") throw new AppError("INVALID_TOKEN", "The refresh token is unknown, expired or revoked.");
    return this.#sessions.answerWith(row.id ? (row as SessionUserRow) : undefined, row.session_id!, refreshToken);
  }

  /** Revokes the caller's current session (or the one a refresh token belongs to). */
  async logout(caller: Caller, refreshToken?: string): Promise<{ success: true }> {
    const sessionId = caller.claims?.sid;
    if (!sessionId && !refreshToken) throw new AppError("UNAUTHENTICATED", "Sign in to sign out.");
    await this.#pool.query("select app_private.logout_session($1, $2)", [
      sessionId ?? null,
      refreshToken ? sha256(refreshToken) : null,
    ]);
    return { success: true };
  }

  /** Checks the current password, sets the new one, revokes every other session. */
  async changePassword(input: unknown, caller: Caller): Promise<{ success: true }> {
    const claims = requireClaims(caller);
    const data = parseInput(schemas.changePassword, input);
    checkPasswordPolicy(data.newPassword);
    // Before the password is looked at: an ended session is UNAUTHENTICATED, not a wrong password
    // (a deleted user's hash is gone), and takes no unit of the limit. change_password checks it
    // again, under the session's row lock, as it writes.
    await this.#checkSession(claims);
    const unit = await take(this.#pool, [`password-change:${claims.sub}`, LIMITS.changePasswordPerUser]);
    const { rows } = await this.#pool.query<{ password_hash: string | null }>(
      "select password_hash from app_private.user_secrets where user_id = $1",
      [claims.sub],
    );
    if (!(await checkedUnder(unit, verifyPassword(data.currentPassword, rows[0]?.password_hash)))) {
      throw new AppError("INVALID_CREDENTIALS", "The current password is not correct.");
    }
    await unit.giveBack();
    const newHash = await hashPassword(data.newPassword);
    // Only over the hash that was checked: of parallel changes from one old password, one wins.
    const changed = await this.#pool.query<{ changed: boolean }>(
      "select app_private.change_password($1, $2, $3, $4) as changed",
      [claims.sub, rows[0]!.password_hash, newHash, claims.sid],
    );
    if (!changed.rows[0]?.changed) {
      throw new AppError("INVALID_CREDENTIALS", "The current password is not correct: it was changed meanwhile.");
    }
    await this.#audit("password_changed", caller, { tenantId: claims.tid, userId: claims.sub });
    return { success: true };
  }

  /** Always the same answer; e-mails a one-time token only to an existing account. */
  async forgotPassword(input: unknown, caller: Caller): Promise<{ success: true }> {
    const data = parseInput(schemas.forgotPassword, input);
    const tenantId = await activeTenantId(this.#pool, data.tenant);
    const tenantKey = limitKeyOfTenant(tenantId, data.tenant);
    // From an address the e-mail's user has signed in from, the requests are counted apart from the
    // tenant's and the e-mail's: a flood of them from elsewhere does not keep the owner from a reset.
    const known =
      tenantId !== undefined &&
      (
        await this.#pool.query<{ known: boolean }>("select app_private.known_reset_address($1, $2, $3) as known", [
          tenantId,
          data.email,
          inetOf(caller),
        ])
      ).rows[0]!.known;
    await take(
      this.#pool,
      [`forgot:ip:${ipOf(caller)}`, LIMITS.forgotPasswordPerIp],
      ...(known
        ? [[`forgot:email:${tenantKey}:${data.email}:known:${ipOf(caller)}`, LIMITS.forgotPasswordPerEmail] as const]
        : [
            [`forgot:tenant:${tenantKey}`, LIMITS.forgotPasswordPerTenant] as const,
            [`forgot:email:${tenantKey}:${data.email}`, LIMITS.forgotPasswordPerEmail] as const,
          ]),
    );
    if (tenantId) {
      const token = randomToken();
      await this.#pool.query("select app_private.issue_password_reset($1, $2, $3, $4, make_interval(secs => $5))", [
        tenantId,
        data.email,
        sha256(token),
        token,
        PASSWORD_RESET_TTL_SECONDS,
      ]);
    }
    return { success: true };
  }

  /** Uses a reset token: new password, every session revoked. */
  async resetPassword(input: unknown, caller: Caller): Promise<{ success: true }> {
    const data = parseInput(schemas.resetPassword, input);
    checkPasswordPolicy(data.newPassword);
    const tokenHash = sha256(data.token);
    // No argon2 work for a token that cannot be used (reset_password checks it again, atomically).
    const usable = await this.#pool.query(
      "select 1 from app_private.password_resets r join app_public.users u on u.id = r.user_id " +
        "join app_public.tenants t on t.id = u.tenant_id " +
        "where r.token_hash = $1 and r.used_at is null and r.expires_at > now() and u.deleted_at is null " +
        "and t.status = 'active'",
      [tokenHash],
    );
    const { rows } = usable.rowCount
      ? await this.#pool.query<{ user_id: string | null }>("select app_private.reset_password($1, $2) as user_id", [
          tokenHash,
          await hashPassword(data.newPassword),
        ])
      : { rows: [] };
    if (!rows[0]?.user_id) throw new AppError("INVALID_TOKEN", "The reset token is unknown, used or expired.");
    await this.#audit("password_reset", caller, { userId: rows[0].user_id });
    return { success: true };
  }

  /** Starts 2FA enrolment: a new secret (stored encrypted) and its otpauth:// URI. */
  async enableTwoFactor(caller: Caller): Promise<{ secret: string; otpauthUri: string }> {
    const claims = requireClaims(caller);
    await this.#checkSession(claims);
    return this.#twoFactor.enrol(claims.sub, claims.sid);
  }

  /** Turns 2FA on with a first valid code; answers the ten recovery codes, shown once. */
  async confirmTwoFactor(input: unknown, caller: Caller): Promise<{ recoveryCodes: string[] }> {
    const claims = requireClaims(caller);
    const { code } = parseInput(schemas.twoFactorCode, input);
    await this.#checkSession(claims);
    const codes = await this.#twoFactor.confirm(claims.sub, claims.sid, code);
    await this.#audit("two_factor_enabled", caller, { tenantId: claims.tid, userId: claims.sub });
    return { recoveryCodes: codes };
  }

  /** Turns 2FA off; needs a valid TOTP or recovery code. */
  async disableTwoFactor(input: unknown, caller: Caller): Promise<{ success: true }> {
    const claims = requireClaims(caller);
    const { code } = parseInput(schemas.twoFactorCode, input);
    await this.#checkSession(claims);
    await this.#twoFactor.disable(claims.sub, claims.sid, code);
    await this.#audit("two_factor_disabled", caller, { tenantId: claims.tid, userId: claims.sub });
    return { success: true };
  }

  /** Appends to app_private.auth_events (never the secret material itself). */
  async #audit(
    type: string,
    caller: Caller,
    about: { tenantId?: string; userId?: string; details?: Record<string, unknown> },
  ): Promise<void> {
    await this.#pool.query("select app_private.record_auth_event($1, $2, $3, $4, $5, $6, $7)", [
      type,
      about.tenantId ?? caller.claims?.tid ?? null,
      about.userId ?? caller.claims?.sub ?? null,
      caller.ip ?? null,
      caller.userAgent ?? null,
      caller.requestId ?? null,
      about.details ?? {},
    ]);
  }
}
