/** The problems loadConfig reports for an environment ([] when it loads), and a hardened one that loads. */
import { randomBytes } from "node:crypto";
import { loadConfig } from "../../src/modules/index.ts";
import { ConfigError } from "../../src/platform/config.ts";

export function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

/** A secret no file of the repository holds (hardened environments refuse published ones). */
export const freshSecret = () => randomBytes(24).toString("base64url");

/** The least a stage or prod environment needs to load: an external database and secrets of its own. */
export function hardenedEnv(env: "stage" | "prod" = "prod"): Record<string, string> {
  return {
    APP_ENV: env,
    DATABASE_URL: `postgres://tessera:${freshSecret()}@db.internal/tessera`,
    DATABASE_AUTHENTICATOR_URL: `postgres://tessera_authenticator:${freshSecret()}@db.internal/tessera`,
    JWT_SECRET: freshSecret(),
    TOTP_ENCODE_SECRET: freshSecret(),
  };
}
