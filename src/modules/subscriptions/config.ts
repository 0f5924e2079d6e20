/**
 * The subscriptions module's environment variables: where the subscription provider (Contms) answers,
 * the token it wants and how many calls it takes at once. Without CONTMS_API_URL the sync job does
 * nothing and issuing jobs fail (and retry) until it is set.
 */
import { z } from "zod";
import { configFragment } from "../../platform/config.ts";
import { httpUrl, integer } from "../../platform/configSchema.ts";
import { isHardenedEnv } from "../../platform/hardening.ts";

export interface ContmsConfig {
  /** The API's base URL; `GET <url>/products`, `POST <url>/subscriptions`. */
  apiUrl: string;
  /** Sent as `Authorization: Bearer <token>` when set. */
  apiToken?: string;
}

export interface SubscriptionsConfig {
  /** Absent when CONTMS_API_URL is not set. */
  contms?: ContmsConfig;
  /** Calls to Contms at once in each worker process: the slots of the worker's "contms" runner. */
  concurrency: number;
}

export const CONTMS_DEFAULT_CONCURRENCY = 2;

export const subscriptionsConfig = configFragment({
  variables: {
    CONTMS_API_URL: httpUrl().optional(),
    CONTMS_API_TOKEN: z.string().min(1).max(2000).optional(),
    CONTMS_CONCURRENCY: integer(1, 100).default(CONTMS_DEFAULT_CONCURRENCY),
  },
  problems(raw) {
    const problems: string[] = [];
    if (raw.CONTMS_API_TOKEN && !raw.CONTMS_API_URL) problems.push("CONTMS_API_TOKEN: is set without CONTMS_API_URL");
    const env = raw.APP_ENV ?? "dev";
    if (isHardenedEnv(env) && raw.CONTMS_API_TOKEN && raw.CONTMS_API_URL?.startsWith("http:"))
      problems.push(`CONTMS_API_URL: must be https:// when a token is sent and APP_ENV=${env}`);
    return problems;
  },
  build: (env): SubscriptionsConfig => ({
    contms: env.CONTMS_API_URL ? { apiUrl: env.CONTMS_API_URL, apiToken: env.CONTMS_API_TOKEN } : undefined,
    concurrency: env.CONTMS_CONCURRENCY,
  }),
});
