/**
 * What "hardened" means for the environments that face real users (APP_ENV=stage and prod):
 * development defaults and secrets published in this repository are refused.
 */
export const DEV_JWT_SECRET = "tessera-dev-jwt-secret-change-me-in-production";

/**
 * Every secret value written anywhere in this repository (defaults, .env.example, compose files,
 * docs, benches, tests). Being public, none of them may protect a stage or production deployment;
 * test/config/publishedSecrets.test.ts fails when a new one appears in the repository without
 * being listed here.
 */
export const PUBLISHED_SECRETS: ReadonlySet<string> = new Set([
  DEV_JWT_SECRET,
  // the development default of TOTP_ENCODE_SECRET
  "tessera-dev-totp-encode-secret-change-me",
  // the development default of SERVICE_API_KEY (the demo tenant's bot key)
  "tsk_dev_demo_service_key_change_me",
  // the development default of PAYMENT_WEBHOOK_SECRET (the mock payment provider signs with it)
  "whsec_dGVzc2VyYS1kZXZlbG9wbWVudC13ZWJob29rLXNlY3JldA==",
  // .env.example
  "change-me-to-a-long-random-secret-of-32-chars-or-more",
  "change-me-to-another-long-random-secret-32+",
  // docker-compose.yml
  "compose-development-secret-change-me-0123456789",
  "compose-development-totp-key-change-me-0123",
  "tessera-owner-password",
  "tessera-authenticator-password",
  "postgres",
  // .env.example database examples
  "owner-password",
  "authenticator-password",
  // README and tests
  "secret",
  "secret2",
  "pw",
  "0123456789",
  "test-jwt-secret-that-is-long-enough-for-prod",
  "tsk_service_key_for_the_tests_0123456789abcdef",
]);

/** Environments that face real users: development defaults and published secrets are refused. */
const HARDENED_ENVS = new Set(["stage", "prod"]);

export function isHardenedEnv(env: string): boolean {
  return HARDENED_ENVS.has(env);
}

/**
 * A secret with a development default: white space at either end is refused, and in a hardened
 * environment (stage, prod) the default, a secret under 32 characters and a published one too.
 * Modules use it for their secrets.
 */
export function hardenedSecretProblems(
  name: string,
  value: string | undefined,
  fallback: string,
  env: string,
): string[] {
  const secret = value ?? fallback;
  // Whatever the environment: a line end or a space copied along is part of the key, and it hid a
  // published secret from the check below.
  if (secret.trim() !== secret) return [`${name}: must not start or end with white space`];
  if (!HARDENED_ENVS.has(env)) return [];
  const when = `when APP_ENV=${env}`;
  if (secret === fallback) return [`${name}: the development default is refused ${when}`];
  if (secret.length < 32) return [`${name}: must be at least 32 characters ${when}`];
  if (isRepetitive(secret)) return [`${name}: ${REPETITIVE} ${when}`];
  if (PUBLISHED_SECRETS.has(secret))
    return [`${name}: this value is published in the Tessera repository; generate your own ${when}`];
  return [];
}

/** What a hardened environment says of a secret that isRepetitive. */
export const REPETITIVE = "must not be blank or repetitive (at least 8 distinct characters)";

/** Forty spaces are 40 characters and no secret; nor is one character, or a few, over and over. */
export function isRepetitive(secret: string): boolean {
  return new Set(secret.trim()).size < 8;
}

/** The password of a connection URL, if it has one and parses. */
export function passwordOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password === "" ? undefined : password;
  } catch {
    return undefined;
  }
}
