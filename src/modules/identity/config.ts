/** Identity's environment variables: token lifetimes, the TOTP sealing key, the captcha service. */
import { z } from "zod";
import { ACCESS_TOKEN_MAX_MINUTES } from "../../platform/auth/tokens.ts";
import { configFragment } from "../../platform/config.ts";
import { httpUrl, integer } from "../../platform/configSchema.ts";
import { hardenedSecretProblems, isHardenedEnv } from "../../platform/hardening.ts";

const DEV_TOTP_ENCODE_SECRET = "tessera-dev-totp-encode-secret-change-me";

export interface IdentityConfig {
  jwtSecret: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  twoFactorTokenTtlSeconds: number;
  /** Seals TOTP secrets at rest (AES-GCM). */
  totpEncodeSecret: string;
  captchaApiUrl?: string;
}

/** Lifetimes in minutes when unset: an access token, a refresh token (the session). */
const ACCESS_TTL_DEFAULT = 15;
const REFRESH_TTL_DEFAULT = 43_200;

export const identityConfig = configFragment({
  variables: {
    ACCESS_TOKEN_TTL_MINUTES: integer(1, ACCESS_TOKEN_MAX_MINUTES).default(ACCESS_TTL_DEFAULT),
    REFRESH_TOKEN_TTL_MINUTES: integer(5, 366 * 24 * 60).default(REFRESH_TTL_DEFAULT),
    TWO_FA_TOKEN_TTL_MINUTES: integer(1, 60).default(5),
    TOTP_ENCODE_SECRET: z.string().min(1, "must not be empty").default(DEV_TOTP_ENCODE_SECRET),
    CAPTCHA_API_URL: httpUrl().optional(),
  },
  problems(raw) {
    const env = raw.APP_ENV ?? "dev";
    const problems = hardenedSecretProblems("TOTP_ENCODE_SECRET", raw.TOTP_ENCODE_SECRET, DEV_TOTP_ENCODE_SECRET, env);
    // A session whose refresh token dies before its first access token would end at the first refresh.
    const access = Number(raw.ACCESS_TOKEN_TTL_MINUTES ?? ACCESS_TTL_DEFAULT);
    const refresh = Number(raw.REFRESH_TOKEN_TTL_MINUTES ?? REFRESH_TTL_DEFAULT);
    // Only between two values each in its own range: one out of range is named for itself alone.
    if (access <= ACCESS_TOKEN_MAX_MINUTES && Number.isFinite(refresh) && refresh < access) {
      problems.push("REFRESH_TOKEN_TTL_MINUTES: must be at least ACCESS_TOKEN_TTL_MINUTES");
    }
    if (isHardenedEnv(env) && raw.JWT_SECRET && raw.JWT_SECRET.trim() === raw.TOTP_ENCODE_SECRET?.trim()) {
      problems.push(`TOTP_ENCODE_SECRET: must differ from JWT_SECRET when APP_ENV=${env}`);
    }
    return problems;
  },
  build: (env): Omit<IdentityConfig, "jwtSecret"> => ({
    accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_MINUTES * 60,
    refreshTokenTtlSeconds: env.REFRESH_TOKEN_TTL_MINUTES * 60,
    twoFactorTokenTtlSeconds: env.TWO_FA_TOKEN_TTL_MINUTES * 60,
    totpEncodeSecret: env.TOTP_ENCODE_SECRET,
    captchaApiUrl: env.CAPTCHA_API_URL,
  }),
});
