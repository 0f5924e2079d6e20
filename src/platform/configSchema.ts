/** The platform's environment variables, each with its zod schema and default. */
import { isIP } from "node:net";
import { z } from "zod";
import { DEV_JWT_SECRET } from "./hardening.ts";

/** An http:// or https:// URL (z.url() alone takes any scheme: ftp://, file://, javascript:). */
export const httpUrl = () => z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });

/**
 * A file system path: not blank, and without spaces at either end — `" "` made a directory named by
 * a space, and a space left at the end of a line in `.env` names another directory than meant.
 */
export const pathSetting = z
  .string()
  .min(1)
  .refine((value) => value.trim() === value, "must not start or end with a space (nor be blank)");

/**
 * A postgres:// connection string that names a user and a host (in the URL, or as `?user=` /
 * `?host=`, a socket directory) and, if any, a port of 1–65535: pg would take `postgres://` or a
 * port of 99999 and fail only when it connects.
 */
export const postgresUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\//, { error: "must be a postgres:// connection string", abort: true })
  .refine(namesUserAndHost, "must name a user and a host, and a port of 1–65535 if any: postgres://user@host:5432/db");

/** The URL, if it parses (a port over 65535 does not). */
function parsedUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** Whether a URL names a host, and a port other than 0 if any. */
function namesHost(value: string): boolean {
  const url = parsedUrl(value);
  return url !== undefined && url.hostname !== "" && url.port !== "0";
}

/** As namesHost, with a user too; the host and user may be given as `?host=` and `?user=`. */
function namesUserAndHost(value: string): boolean {
  const url = parsedUrl(value);
  if (!url) return false;
  const host = url.hostname || url.searchParams.get("host");
  const user = url.username || url.searchParams.get("user");
  return Boolean(host && user) && url.port !== "0";
}

/**
 * A whole number written in decimal digits: "0x10", "1e3" and "Infinity", which JavaScript's
 * Number() would read, are refused rather than read as something the operator did not write.
 */
export const integer = (min: number, max: number) =>
  z
    .union([z.number(), z.string().trim()])
    .refine((value) => typeof value === "number" || /^-?[0-9]+$/.test(value), "must be a whole number")
    .pipe(
      z.coerce
        .number<string | number>()
        // Not zod's int(), which refuses digits past 2^53 as no whole number: they are, and too big.
        .refine(Number.isInteger, "must be a whole number")
        .min(min, `must be at least ${min}`)
        .max(max, `must be at most ${max}`),
    );

/** One entry of TRUST_PROXY as Express reads it: a named range, an address, or a CIDR. */
function trustedAddress(part: string): boolean {
  if (["loopback", "linklocal", "uniquelocal"].includes(part)) return true;
  const [address = "", range, ...rest] = part.split("/");
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (range === undefined) return true;
  if (/^[0-9]{1,3}$/.test(range)) return Number(range) <= (family === 4 ? 32 : 128);
  // A netmask (IPv4 only): contiguous ones, then zeros.
  if (family !== 4 || isIP(range) !== 4) return false;
  const bits = range
    .split(".")
    .map((octet) => Number(octet).toString(2).padStart(8, "0"))
    .join("");
  return /^1*0*$/.test(bits);
}

/** CORS_ORIGINS as written: `*`, or http(s) origins separated by commas. */
const ORIGIN_LIST = /^(\*|https?:\/\/[^\s,/]+(,\s*https?:\/\/[^\s,/]+)*)$/;

export const envSchema = z.object({
  APP_ENV: z.enum(["dev", "test", "stage", "prod"]).default("dev"),
  // Read only to refuse NODE_ENV=production without APP_ENV (config.ts): Tessera keys on APP_ENV.
  NODE_ENV: z.string().optional(),
  PORT: integer(0, 65535).default(8080),
  PUBLIC_URL: httpUrl().optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  DATABASE_URL: postgresUrl.optional(),
  DATABASE_AUTHENTICATOR_URL: postgresUrl.optional(),
  DATABASE_VISITOR: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a lower-case role name of at most 63 characters")
    .optional(),
  DATABASE_BOT: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a lower-case role name of at most 63 characters")
    .optional(),
  DATABASE_LISTEN_URL: postgresUrl.optional(),
  DATABASE_CONNECT_TIMEOUT_SECONDS: integer(1, 600).default(10),
  DATABASE_PREPARED_STATEMENTS: z.enum(["true", "false"], { error: "must be true or false" }).default("true"),
  SHADOW_DATABASE_URL: postgresUrl.optional(),
  ROOT_DATABASE_URL: postgresUrl.optional(),
  EMBEDDED_DATABASE_DIR: pathSetting.optional(),
  JWT_SECRET: z.string().min(1, "must not be empty").default(DEV_JWT_SECRET),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, { error: "must be an smtp:// or smtps:// URL", abort: true })
    .refine(namesHost, "must name a host, and a port of 1–65535 if any: smtp://user:password@host:587")
    .optional(),
  MAIL_FROM: z
    .string()
    .regex(/^([^<>@]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/, "must be an address, or a name and <address>")
    .default("Tessera <no-reply@tessera.local>"),
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
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl().optional(),
  GRAPHQL_PERSISTED_OPERATIONS_DIR: pathSetting.optional(),
  CORS_ORIGINS: z
    .string()
    .regex(
      ORIGIN_LIST,
      "must be * or a comma-separated list of http(s) origins (scheme, host and port: no path, no trailing /)",
    )
    // Compared as the browser's Origin header spells it: an entry spelt otherwise could never match.
    .superRefine((value, context) => {
      if (value === "*" || !ORIGIN_LIST.test(value)) return;
      for (const entry of value.split(",").map((part) => part.trim())) {
        const origin = browserOrigin(entry);
        if (origin === entry) continue;
        context.addIssue({
          code: "custom",
          message: origin
            ? `${entry} is not written as browsers send it: ${origin}`
            : `${entry} is not an origin (scheme, host and a port of 1–65535; no user, query or fragment)`,
        });
      }
    })
    .optional(),
  TRUST_PROXY: z
    .string()
    .refine(
      (value) =>
        /^(true|false|[0-9]{1,2})$/.test(value) || value.split(",").every((part) => trustedAddress(part.trim())),
      "must be true, false, a hop count, or a comma-separated list of IP addresses, CIDRs (address/bits or " +
        "address/netmask) and loopback/linklocal/uniquelocal",
    )
    .default("loopback"),
  METRICS_TOKEN: z
    .string()
    .min(16, "must be at least 16 characters")
    // A bearer token is sent as it is: spaces at either end could never be presented.
    .refine((value) => value.trim() === value, "must not start or end with white space")
    .optional(),
});

/**
 * The origin a browser sends for pages at this address (lower-case host, IDN in punycode, default
 * port left out); undefined when it is no http(s) origin or holds what an origin cannot (a user,
 * a query, a fragment).
 */
function browserOrigin(entry: string): string | undefined {
  try {
    const url = new URL(entry);
    // A user, a query or a fragment, even an empty one, needs one of these characters.
    if (url.pathname !== "/" || /[?#@]/.test(entry)) return undefined;
    return url.protocol === "http:" || url.protocol === "https:" ? url.origin : undefined;
  } catch {
    return undefined;
  }
}
