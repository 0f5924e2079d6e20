/** The platform's environment variables, each with its zod schema and default. */
import { z } from "zod";
import { DEV_JWT_SECRET } from "./hardening.ts";

export const postgresUrl = z.string().regex(/^postgres(ql)?:\/\//, "must be a postgres:// connection string");

export const integer = (min: number, max: number) =>
  z.coerce
    .number({ error: "must be a number" })
    .int("must be a whole number")
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

export const envSchema = z.object({
  APP_ENV: z.enum(["dev", "test", "stage", "prod"]).default("dev"),
  PORT: integer(0, 65535).default(8080),
  PUBLIC_URL: z.url().optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  DATABASE_URL: postgresUrl.optional(),
  DATABASE_AUTHENTICATOR_URL: postgresUrl.optional(),
  DATABASE_VISITOR: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, "must be a lower-case role name")
    .optional(),
  DATABASE_BOT: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, "must be a lower-case role name")
    .optional(),
  DATABASE_LISTEN_URL: postgresUrl.optional(),
  DATABASE_PREPARED_STATEMENTS: z.enum(["true", "false"], { error: "must be true or false" }).default("true"),
  SHADOW_DATABASE_URL: postgresUrl.optional(),
  ROOT_DATABASE_URL: postgresUrl.optional(),
  EMBEDDED_DATABASE_DIR: z.string().min(1).optional(),
  JWT_SECRET: z.string().min(1, "must not be empty").default(DEV_JWT_SECRET),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, "must be an smtp:// or smtps:// URL")
    .optional(),
  MAIL_FROM: z.string().min(3).default("Tessera <no-reply@tessera.local>"),
  MAIL_CONCURRENCY: integer(1, 100).default(2),
  SMTP_CONNECT_TIMEOUT_MS: integer(100, 300_000).default(5_000),
  SMTP_SOCKET_TIMEOUT_MS: integer(100, 600_000).default(20_000),
  WORKER_CONCURRENCY: integer(1, 1000).default(5),
  WORKER_HEARTBEAT_SECONDS: integer(1, 3600).default(10),
  WORKER_STALE_SECONDS: integer(2, 86_400).default(60),
  GRAPHQL_MAX_DEPTH: integer(2, 100).default(12),
  GRAPHQL_MAX_COST: integer(10, 10_000_000).default(10_000),
  GRAPHQL_MAX_PAGE_SIZE: integer(1, 10_000).default(100),
  GRAPHQL_INTROSPECTION: z.enum(["true", "false"], { error: "must be true or false" }).optional(),
  STATEMENT_TIMEOUT_MS: integer(100, 600_000).default(10_000),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  GRAPHQL_PERSISTED_OPERATIONS_DIR: z.string().min(1).optional(),
  CORS_ORIGINS: z
    .string()
    .regex(
      /^(\*|https?:\/\/[^\s,]+(,\s*https?:\/\/[^\s,]+)*)$/,
      "must be * or a comma-separated list of http(s) origins",
    )
    .optional(),
  TRUST_PROXY: z
    .string()
    .regex(
      /^(true|false|\d{1,2}|[0-9A-Za-z.:/]+(\s*,\s*[0-9A-Za-z.:/]+)*)$/,
      "must be true, false, a hop count, or a comma-separated list of addresses, CIDRs and " +
        "loopback/linklocal/uniquelocal",
    )
    .default("loopback"),
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
});
