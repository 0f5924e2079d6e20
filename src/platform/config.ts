/**
 * The one place where the environment becomes configuration. Every variable is validated here,
 * every problem is reported at once, and nothing else in the code reads `process.env`.
 */
import { join, resolve } from "node:path";
import type { z } from "zod";
import { envSchema } from "./configSchema.ts";
import {
  DEV_JWT_SECRET,
  hardenedSecretProblems,
  isHardenedEnv,
  isRepetitive,
  passwordOf,
  PUBLISHED_SECRETS,
  REPETITIVE,
} from "./hardening.ts";
import { dataDir } from "./paths.ts";

/**
 * Rules across variables. They read the raw strings so that they are reported together with
 * every per-variable problem, not only once those are fixed.
 */
function crossVariableProblems(raw: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  const env = raw.APP_ENV ?? "dev";
  // Hosts that set NODE_ENV=production would otherwise run the development defaults (open CORS,
  // Ruru, the published secrets) without a word: the hardening keys on APP_ENV alone.
  if (raw.NODE_ENV === "production" && raw.APP_ENV === undefined)
    problems.push("APP_ENV: must be set when NODE_ENV=production (prod or stage; dev to run development settings)");
  // White space around the secret in every environment; the hardened rules in stage and prod.
  problems.push(...hardenedSecretProblems("JWT_SECRET", raw.JWT_SECRET, DEV_JWT_SECRET, env));
  if (isHardenedEnv(env)) {
    const when = `when APP_ENV=${env}`;
    const published = "this value is published in the Tessera repository; generate your own";
    if (raw.METRICS_TOKEN && PUBLISHED_SECRETS.has(raw.METRICS_TOKEN)) {
      problems.push(`METRICS_TOKEN: ${published} ${when}`);
    } else if (raw.METRICS_TOKEN && isRepetitive(raw.METRICS_TOKEN)) {
      // Sixteen of one letter passed the length rule.
      problems.push(`METRICS_TOKEN: ${REPETITIVE} ${when}`);
    }
    for (const name of ["DATABASE_URL", "DATABASE_AUTHENTICATOR_URL", "DATABASE_LISTEN_URL", "SMTP_URL"] as const) {
      const password = passwordOf(raw[name]);
      if (password !== undefined && PUBLISHED_SECRETS.has(password)) {
        problems.push(`${name}: its password is published in the Tessera repository; set your own ${when}`);
      }
    }
    if (!raw.DATABASE_URL)
      problems.push(`DATABASE_URL: is required ${when} (no embedded database outside development)`);
  }
  const heartbeat = Number(raw.WORKER_HEARTBEAT_SECONDS ?? 10);
  const stale = Number(raw.WORKER_STALE_SECONDS ?? 60);
  // A live worker that beats every N seconds must never look stale between two beats.
  if (Number.isFinite(heartbeat) && Number.isFinite(stale) && stale < 2 * heartbeat) {
    problems.push("WORKER_STALE_SECONDS: must be at least twice WORKER_HEARTBEAT_SECONDS");
  }
  if (raw.DATABASE_URL && !raw.DATABASE_AUTHENTICATOR_URL) {
    problems.push("DATABASE_AUTHENTICATOR_URL: is required when DATABASE_URL is set");
  }
  // They describe the pooler in front of an external database; the embedded one has none.
  for (const name of ["DATABASE_LISTEN_URL", "DATABASE_PREPARED_STATEMENTS"] as const) {
    if (raw[name] && !raw.DATABASE_URL) problems.push(`${name}: is only read with DATABASE_URL (an external database)`);
  }
  return problems;
}

/** Express's `trust proxy` setting from TRUST_PROXY: a boolean, a hop count, or addresses/CIDRs. */
function trustProxySetting(value: string): boolean | number | string[] {
  if (value === "true") return true;
  if (value === "false") return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value.split(",").map((part) => part.trim());
}

export type Env = z.infer<typeof envSchema>;

/** Connection strings for one database, whether embedded or external. */
export interface DatabaseUrls {
  /** The owner role: migrations, worker, bootstrap. */
  ownerUrl: string;
  /** The LOGIN NOINHERIT role PostGraphile connects as; it switches to the visitor role per request. */
  authenticatorUrl: string;
  /** The role every request runs as. */
  visitorRole: string;
  /** The role bot requests (REST /api/bot/*) run as. */
  botRole: string;
  /** graphile-migrate's shadow database (optional outside development). */
  shadowUrl?: string;
  /** A superuser connection, used to create roles, databases and extensions. */
  rootUrl?: string;
  /**
   * A session connection for the API's LISTEN clients (subscriptions, the session watch), when the
   * other URLs go through a transaction pooler (PgBouncer pool_mode=transaction). Unset: the
   * subscriptions LISTEN on a client of the authenticator's pool, the session watch on the owner URL.
   */
  listenUrl?: string;
  /**
   * false: no connection of this process prepares a named statement (a query's name is dropped),
   * as a transaction pooler that cannot keep them requires. Unset means true.
   */
  preparedStatements?: boolean;
}

export interface MailConfig {
  /** Unset: e-mails are logged (recipient and template only), not sent. */
  smtpUrl?: string;
  from: string;
  /** send_email jobs run at once, in a runner of their own (and pooled SMTP connections); default 2. */
  concurrency?: number;
  /** Limit for the TCP connection and, separately, for the server's greeting; default 5 s. */
  connectTimeoutMs?: number;
  /** Longest silence of the server once connected; default 20 s. */
  socketTimeoutMs?: number;
}

/** How worker processes tell they are alive, and when one is presumed dead. */
export interface WorkerLivenessConfig {
  heartbeatSeconds: number;
  /** A pool whose heartbeat is older than this is dead: its jobs are released to the others. */
  staleAfterSeconds: number;
}

export interface Config {
  env: Env["APP_ENV"];
  /** APP_ENV=stage or prod: development defaults refused, introspection off, errors masked. */
  isProduction: boolean;
  port: number;
  publicUrl?: string;
  logLevel: Env["LOG_LEVEL"];
  /** Signs and verifies access tokens. */
  jwtSecret: string;
  mail: MailConfig;
  workerConcurrency: number;
  workerLiveness: WorkerLivenessConfig;
  graphql: {
    maxDepth: number;
    maxCost: number;
    maxPageSize: number;
    introspection: boolean;
    statementTimeoutMs: number;
    /** When set, only the operations stored here (as `<hash>.graphql`) may run. */
    persistedOperationsDir?: string;
  };
  /** OTLP/HTTP collector; tracing is off when unset. */
  otelEndpoint?: string;
  /** Allowed browser origins; "*" means any, an empty list means same-origin only. */
  corsOrigins: "*" | string[];
  /**
   * Which proxies in front of the API are trusted to say who the client is (X-Forwarded-For):
   * Express's `trust proxy` values. The client address it yields keys every per-IP limit, for
   * REST, GraphQL over HTTP and WebSocket alike.
   */
  trustProxy: boolean | number | string[];
  /** When set, GET /metrics requires `Authorization: Bearer <token>`. */
  metricsToken?: string;
  /** Absent when the embedded PostgreSQL must provide the database. */
  database?: DatabaseUrls;
  /** How long a new database connection may take to be ready before it counts as unreachable. */
  databaseConnectTimeoutMs: number;
  /** The embedded PostgreSQL's data directory (its port and password are saved in `<dir>.json`). */
  embeddedDatabaseDir: string;
  /** Each module's own configuration, read through its fragment's `of(config)`. */
  fragments: ReadonlyMap<ConfigFragment<unknown>, unknown>;
}

/** Raw environment strings, empty values dropped. */
export type RawEnv = Record<string, string | undefined>;

/** The environment variables of one module and what the module makes of them. */
export interface ConfigFragment<T> {
  variables: z.ZodRawShape;
  /** Rules across variables, read from the raw strings so they are reported with all others. */
  problems?(raw: RawEnv): string[];
  build(env: Record<string, unknown>, hardened: boolean): T;
  /** This module's values in a loaded configuration. */
  of(config: Config): T;
}

/** Declares a module's configuration: zod schemas per variable, and the values built from them. */
export function configFragment<Shape extends z.ZodRawShape, T>(spec: {
  variables: Shape;
  problems?(raw: RawEnv): string[];
  build(env: z.infer<z.ZodObject<Shape>>, hardened: boolean): T;
}): ConfigFragment<T> {
  const fragment: ConfigFragment<T> = {
    variables: spec.variables,
    problems: spec.problems,
    build: (env, hardened) => spec.build(env as z.infer<z.ZodObject<Shape>>, hardened),
    of(config) {
      if (!config.fragments.has(fragment as ConfigFragment<unknown>)) {
        throw new Error("this configuration was loaded without the module that reads it");
      }
      return config.fragments.get(fragment as ConfigFragment<unknown>) as T;
    },
  };
  return fragment;
}

/** The environment cannot be used as configured (a port taken, a cluster locked): one line saying what to do. */
export class StartupError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StartupError";
  }
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Every variable the platform and these modules read; used to check compose files and docs. */
export function knownVariables(modules: ReadonlyArray<{ config?: ConfigFragment<unknown> }>): string[] {
  return [...Object.keys(envSchema.shape), ...modules.flatMap((module) => Object.keys(module.config?.variables ?? {}))];
}

/** Derives the visitor role from the authenticator's user name: `<db>_authenticator` → `<db>_visitor`. */
export function deriveVisitorRole(authenticatorUrl: string): string {
  const user = decodeURIComponent(new URL(authenticatorUrl).username);
  return user.endsWith("_authenticator") ? user.replace(/_authenticator$/, "_visitor") : `${user}_visitor`;
}

/** Derives the bot role the same way: `<db>_authenticator` → `<db>_bot`. */
export function deriveBotRole(authenticatorUrl: string): string {
  return deriveVisitorRole(authenticatorUrl).replace(/_visitor$/, "_bot");
}

/**
 * A variable of ours whose name starts with a byte order mark (U+FEFF): Node reads a `.env` file
 * saved with one (as some Windows editors save UTF-8) as giving `\uFEFFAPP_ENV`, so its first
 * variable went unread — `APP_ENV=prod` on the first line ran the development settings without a word.
 */
function byteOrderMarkProblems(source: NodeJS.ProcessEnv, known: Record<string, unknown>): string[] {
  return Object.keys(source)
    .filter((key) => key.startsWith("\uFEFF") && key.slice(1) in known)
    .map(
      (key) =>
        `${key.slice(1)}: its name starts with a byte order mark (U+FEFF), so it is not read: ` +
        "save the .env file as UTF-8 without a BOM",
    );
}

/**
 * Reads and validates the environment for the platform and the given modules; throws one
 * ConfigError that names every problem.
 */
export function loadConfig(
  source: NodeJS.ProcessEnv,
  modules: ReadonlyArray<{ config?: ConfigFragment<unknown> }>,
): Config {
  const fragments = modules.flatMap((module) => (module.config ? [module.config] : []));
  const schema = envSchema.extend(Object.assign({}, ...fragments.map((fragment) => fragment.variables)));
  const raw: RawEnv = Object.fromEntries(
    Object.entries(source).filter(([key, value]) => key in schema.shape && value !== ""),
  );
  const parsed = schema.safeParse(raw);
  const problems = [
    ...byteOrderMarkProblems(source, schema.shape),
    ...(parsed.success
      ? []
      : parsed.error.issues.map((issue) => `${issue.path.join(".") || "environment"}: ${issue.message}`)),
    ...crossVariableProblems(raw),
    ...fragments.flatMap((fragment) => fragment.problems?.(raw) ?? []),
  ];
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const env = parsed.data as Env;
  const hardened = isHardenedEnv(env.APP_ENV);
  const database: DatabaseUrls | undefined =
    env.DATABASE_URL && env.DATABASE_AUTHENTICATOR_URL
      ? {
          ownerUrl: env.DATABASE_URL,
          authenticatorUrl: env.DATABASE_AUTHENTICATOR_URL,
          visitorRole: env.DATABASE_VISITOR ?? deriveVisitorRole(env.DATABASE_AUTHENTICATOR_URL),
          botRole: env.DATABASE_BOT ?? deriveBotRole(env.DATABASE_AUTHENTICATOR_URL),
          shadowUrl: env.SHADOW_DATABASE_URL,
          rootUrl: env.ROOT_DATABASE_URL,
          listenUrl: env.DATABASE_LISTEN_URL,
          preparedStatements: env.DATABASE_PREPARED_STATEMENTS === "true",
        }
      : undefined;
  return {
    env: env.APP_ENV,
    isProduction: hardened,
    port: env.PORT,
    publicUrl: env.PUBLIC_URL,
    logLevel: env.LOG_LEVEL,
    jwtSecret: env.JWT_SECRET,
    mail: {
      smtpUrl: env.SMTP_URL,
      from: env.MAIL_FROM,
      concurrency: env.MAIL_CONCURRENCY,
      connectTimeoutMs: env.SMTP_CONNECT_TIMEOUT_MS,
      socketTimeoutMs: env.SMTP_SOCKET_TIMEOUT_MS,
    },
    workerConcurrency: env.WORKER_CONCURRENCY,
    workerLiveness: { heartbeatSeconds: env.WORKER_HEARTBEAT_SECONDS, staleAfterSeconds: env.WORKER_STALE_SECONDS },
    embeddedDatabaseDir: resolve(env.EMBEDDED_DATABASE_DIR ?? join(dataDir, "pg")),
    graphql: {
      maxDepth: env.GRAPHQL_MAX_DEPTH,
      maxCost: env.GRAPHQL_MAX_COST,
      maxPageSize: env.GRAPHQL_MAX_PAGE_SIZE,
      introspection: env.GRAPHQL_INTROSPECTION ? env.GRAPHQL_INTROSPECTION === "true" : !hardened,
      statementTimeoutMs: env.STATEMENT_TIMEOUT_MS,
      persistedOperationsDir: env.GRAPHQL_PERSISTED_OPERATIONS_DIR
        ? resolve(env.GRAPHQL_PERSISTED_OPERATIONS_DIR)
        : undefined,
    },
    otelEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
    corsOrigins:
      env.CORS_ORIGINS === "*"
        ? "*"
        : env.CORS_ORIGINS
          ? env.CORS_ORIGINS.split(",").map((o) => o.trim())
          : hardened
            ? []
            : "*",
    trustProxy: trustProxySetting(env.TRUST_PROXY),
    metricsToken: env.METRICS_TOKEN,
    database,
    databaseConnectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_SECONDS * 1000,
    fragments: new Map(
      fragments.map((fragment) => [fragment, fragment.build(parsed.data as Record<string, unknown>, hardened)]),
    ),
  };
}
