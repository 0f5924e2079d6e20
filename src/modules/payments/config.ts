/**
 * Payments' environment variables: which provider issues invoices, the secret webhooks are signed
 * with, when pending payments are polled and expired, and each provider's address and credentials.
 */
import { z } from "zod";
import { configFragment } from "../../platform/config.ts";
import { httpUrl, integer } from "../../platform/configSchema.ts";
import { hardenedSecretProblems } from "../../platform/hardening.ts";
import { newWebhookSecret, webhookKey } from "../../platform/http/standardWebhooks.ts";

/** Development's webhook secret (the mock provider signs with it); refused in stage and prod. */
export const DEV_PAYMENT_WEBHOOK_SECRET = "whsec_dGVzc2VyYS1kZXZlbG9wbWVudC13ZWJob29rLXNlY3JldA==";

export interface PlatformProviderConfig {
  baseUrl: string;
  login: string;
  password: string;
  /** The base32 TOTP secret the provider's account was enrolled with. */
  twoFactorKey: string;
}

export interface PaymentsConfig {
  /** The provider new payments go to. */
  provider: "mock" | "platform";
  /** The HMAC key of PAYMENT_WEBHOOK_SECRET (`whsec_<base64>`). */
  webhookKey: Buffer;
  /** The raw `whsec_` secret (the mock provider started by `npm start` signs with it). */
  webhookSecret: string;
  /** Pending payments older than this are asked about at their provider by the polling job. */
  notificationMinutes: number;
  /** Pending payments older than this expire and release the stock they hold. */
  expiryMinutes: number;
  /** Payments the polling job asks about per run, the least recently asked first. */
  pollBatch: number;
  /** The mock provider's base URL; unset in dev, `npm start` starts one. */
  mockUrl?: string;
  platform?: PlatformProviderConfig;
}

const PLATFORM = "PLATFORM_PAYMENT_SYSTEM";

export const paymentsConfig = configFragment({
  variables: {
    PAYMENT_PROVIDER: z.enum(["mock", "platform"]).default("mock"),
    PAYMENT_WEBHOOK_SECRET: z
      .string()
      .refine((value) => {
        try {
          webhookKey(value);
          return true;
        } catch {
          return false;
        }
      }, "must be whsec_ followed by the base64 of at least 24 random bytes")
      .optional(),
    PAYMENT_NOTIFICATION_MINUTES: integer(1, 10_080).default(15),
    PAYMENT_EXPIRY_MINUTES: integer(1, 43_200).default(60),
    PAYMENT_POLL_BATCH: integer(1, 10_000).default(200),
    MOCK_PAYMENTS_PROVIDER_URL: httpUrl().optional(),
    PLATFORM_PAYMENT_SYSTEM_BASE_URL: httpUrl().optional(),
    PLATFORM_PAYMENT_SYSTEM_LOGIN: z.string().trim().min(1, "must not be blank").max(200).optional(),
    PLATFORM_PAYMENT_SYSTEM_PASSWORD: z.string().min(1).max(500).optional(),
    PLATFORM_PAYMENT_SYSTEM_2FA_KEY: z
      .string()
      .regex(/^[A-Z2-7]{16,128}=*$/i, "must be a base32 TOTP secret")
      .optional(),
  },
  problems(raw) {
    const env = raw.APP_ENV ?? "dev";
    // In stage and prod a deployment without payments needs none of these; a secret that is set
    // must be a good one.
    const problems =
      raw.PAYMENT_WEBHOOK_SECRET === undefined
        ? []
        : hardenedSecretProblems("PAYMENT_WEBHOOK_SECRET", raw.PAYMENT_WEBHOOK_SECRET, DEV_PAYMENT_WEBHOOK_SECRET, env);
    if (raw.PAYMENT_PROVIDER === "platform") {
      for (const suffix of ["BASE_URL", "LOGIN", "PASSWORD", "2FA_KEY"])
        if (!raw[`${PLATFORM}_${suffix}`])
          problems.push(`${PLATFORM}_${suffix}: is required with PAYMENT_PROVIDER=platform`);
    }
    // Its page lets anyone press Pay, and the poller would settle what they pressed: for development,
    // tests and a staging deployment, never production.
    if (env === "prod" && raw.MOCK_PAYMENTS_PROVIDER_URL !== undefined)
      problems.push(
        "MOCK_PAYMENTS_PROVIDER_URL: the mock provider is refused with APP_ENV=prod (anyone may pay there)",
      );
    // Named on purpose (as .env.example does), it would start and fail every provider payment with
    // PAYMENT_PROVIDER_UNAVAILABLE. Left unset, a deployment takes payments from balances only.
    if (env === "prod" && raw.PAYMENT_PROVIDER === "mock")
      problems.push(
        "PAYMENT_PROVIDER: mock is refused with APP_ENV=prod (set platform, or leave it unset: " +
          "payments from balances only)",
      );
    const notify = Number(raw.PAYMENT_NOTIFICATION_MINUTES ?? 15);
    const expiry = Number(raw.PAYMENT_EXPIRY_MINUTES ?? 60);
    if (Number.isFinite(notify) && Number.isFinite(expiry) && expiry <= notify)
      problems.push("PAYMENT_EXPIRY_MINUTES: must be greater than PAYMENT_NOTIFICATION_MINUTES");
    return problems;
  },
  build: (env, hardened): PaymentsConfig => {
    // Stage or prod without a secret: a random one, so that no webhook is ever accepted.
    const secret = env.PAYMENT_WEBHOOK_SECRET ?? (hardened ? newWebhookSecret() : DEV_PAYMENT_WEBHOOK_SECRET);
    const baseUrl = env.PLATFORM_PAYMENT_SYSTEM_BASE_URL;
    const login = env.PLATFORM_PAYMENT_SYSTEM_LOGIN;
    const password = env.PLATFORM_PAYMENT_SYSTEM_PASSWORD;
    const twoFactorKey = env.PLATFORM_PAYMENT_SYSTEM_2FA_KEY;
    return {
      provider: env.PAYMENT_PROVIDER,
      webhookKey: webhookKey(secret),
      webhookSecret: secret,
      notificationMinutes: env.PAYMENT_NOTIFICATION_MINUTES,
      expiryMinutes: env.PAYMENT_EXPIRY_MINUTES,
      pollBatch: env.PAYMENT_POLL_BATCH,
      mockUrl: env.MOCK_PAYMENTS_PROVIDER_URL,
      platform: baseUrl && login && password && twoFactorKey ? { baseUrl, login, password, twoFactorKey } : undefined,
    };
  },
});
