/**
 * Commerce's environment variables: the static service key (one API key from the environment, for
 * deployments that configure bots before any admin signs in) and the per-key rate limit.
 */
import { z } from "zod";
import { configFragment } from "../../platform/config.ts";
import { integer } from "../../platform/configSchema.ts";
import { hardenedSecretProblems, isHardenedEnv } from "../../platform/hardening.ts";

/** Development's service key for the demo tenant; refused (like every published value) in stage and prod. */
export const DEV_SERVICE_API_KEY = "tsk_dev_demo_service_key_change_me";

export interface CommerceConfig {
  /** The static key, and the slug of the tenant it belongs to. */
  serviceKey?: { key: string; tenantSlug: string };
  /** Bot requests per API key per minute. */
  botRequestsPerMinute: number;
}

export const commerceConfig = configFragment({
  variables: {
    SERVICE_API_KEY: z.string().min(1).max(512).optional(),
    SERVICE_API_TENANT: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, "must be a tenant slug")
      .optional(),
    BOT_API_RATE_LIMIT: integer(1, 1_000_000).default(600),
  },
  problems(raw) {
    const env = raw.APP_ENV ?? "dev";
    if (raw.SERVICE_API_KEY === undefined) return [];
    // White space around the key in every environment; the hardened rules in stage and prod.
    const problems = hardenedSecretProblems("SERVICE_API_KEY", raw.SERVICE_API_KEY, DEV_SERVICE_API_KEY, env);
    if (isHardenedEnv(env) && !raw.SERVICE_API_TENANT)
      problems.push(`SERVICE_API_TENANT: is required with SERVICE_API_KEY when APP_ENV=${env}`);
    return problems;
  },
  build: (env, hardened): CommerceConfig => {
    // Outside stage and prod the demo tenant answers to the development key unless one is set.
    const key = env.SERVICE_API_KEY ?? (hardened ? undefined : DEV_SERVICE_API_KEY);
    const tenantSlug = env.SERVICE_API_TENANT ?? (hardened ? undefined : "demo");
    return {
      serviceKey: key && tenantSlug ? { key, tenantSlug } : undefined,
      botRequestsPerMinute: env.BOT_API_RATE_LIMIT,
    };
  },
});
