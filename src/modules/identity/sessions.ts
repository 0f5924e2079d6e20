/**
 * Issuing a session: the session row with its first refresh token (app_private.create_session),
 * and the answer every session-returning operation gives — a signed access token, the refresh
 * token and the user. The access token's `role` claim is the highest built-in role the user holds.
 */
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { randomToken, sha256 } from "../../platform/auth/secrets.ts";
import { signAccessToken } from "../../platform/auth/tokens.ts";
import { AppError } from "../../platform/errors.ts";
import type { Caller } from "../../platform/graphql/context.ts";
import type { Logger } from "../../platform/logger.ts";
import type { IdentityConfig } from "./config.ts";

export interface AuthUser {
  id: string;
  email: string;
  username: string;
  fullName: string | null;
}

/** What session-returning operations answer: a session, or the 2FA challenge. */
export interface SessionAnswer {
  accessToken: string | null;
  refreshToken: string | null;
  accessTokenExpiresAt: string | null;
  user: AuthUser | null;
  twoFactorRequired: boolean;
  twoFactorToken: string | null;
}

/** The user of a session and the names of the roles they hold, as SESSION_USER_COLUMNS reads them. */
export interface SessionUserRow {
  id: string;
  tenant_id: string;
  email: string;
  username: string;
  full_name: string | null;
  roles: string[];
}

/** Select list and joined tables that read a SessionUserRow from `u` (app_public.users); group by u.id. */
export const SESSION_USER_COLUMNS = `u.id, u.tenant_id, u.email, u.username, u.full_name,
  coalesce(array_agg(r.name) filter (where r.name is not null), '{}') as roles`;
export const SESSION_USER_TABLES = `app_public.users u
  left join app_public.user_roles ur on ur.user_id = u.id
  left join app_public.roles r on r.id = ur.role_id`;

/** Built-in roles from most to least powerful; the JWT `role` claim is the highest a user holds. */
const ROLE_RANK = ["owner", "admin", "manager", "member"];

export class Sessions {
  readonly #pool: pg.Pool;
  readonly #config: IdentityConfig;
  readonly #logger: Logger;

  constructor(pool: pg.Pool, config: IdentityConfig, logger: Logger) {
    this.#pool = pool;
    this.#config = config;
    this.#logger = logger;
  }

  async issue(userId: string, caller: Caller): Promise<SessionAnswer> {
    const refreshToken = randomToken();
    const { rows } = await this.#pool.query<{ session_id: string }>(
      "select app_private.create_session($1, $2, make_interval(secs => $3), $4, $5) as session_id",
      [userId, sha256(refreshToken), this.#config.refreshTokenTtlSeconds, caller.userAgent ?? null, caller.ip ?? null],
    );
    return this.answerFor(userId, rows[0]!.session_id, refreshToken);
  }

  async answerFor(userId: string, sessionId: string, refreshToken: string): Promise<SessionAnswer> {
    const { rows } = await this.#pool.query<SessionUserRow>(
      `select ${SESSION_USER_COLUMNS} from ${SESSION_USER_TABLES} where u.id = $1 group by u.id`,
      [userId],
    );
    return this.answerWith(rows[0], sessionId, refreshToken);
  }

  /** The answer for a user row already read (SESSION_USER_COLUMNS); INVALID_CREDENTIALS without one. */
  answerWith(user: SessionUserRow | undefined, sessionId: string, refreshToken: string): SessionAnswer {
    if (!user) throw new AppError("INVALID_CREDENTIALS");
    const role = ROLE_RANK.find((name) => user.roles.includes(name)) ?? user.roles[0] ?? "member";
    const ttl = this.#config.accessTokenTtlSeconds;
    // The answer's expiry is the token's own `exp`, to the second, never a moment after it.
    const issuedAt = Math.floor(Date.now() / 1000);
    const accessToken = signAccessToken(
      { sub: user.id, tid: user.tenant_id, sid: sessionId, jti: randomUUID(), role },
      this.#config.jwtSecret,
      ttl,
      issuedAt,
    );
    this.#logger.debug({ userId: user.id, sessionId }, "session issued");
    return {
      accessToken,
      refreshToken,
      accessTokenExpiresAt: new Date((issuedAt + ttl) * 1000).toISOString(),
      user: { id: user.id, email: user.email, username: user.username, fullName: user.full_name },
      twoFactorRequired: false,
      twoFactorToken: null,
    };
  }
}
