/**
 * The abuse-limit tests' server and clients: a server with its worker and a captured SMTP server, a
 * tenant "limited", and requests over REST and GraphQL on connections of their own from addresses of
 * the test's own. `useLimitsApp()` starts it before the file's tests and stops it after; the
 * exported bindings are live (set in beforeAll).
 */
import { setRateLimitClock } from "../../src/modules/identity/limits.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, type TestTenant } from "../helpers/fixtures.ts";
import { startSmtpCapture, type SmtpCapture } from "../helpers/smtp.ts";

/**
 * Windows are fixed and aligned to 2000-01-01; the limits read this clock, pinned to the middle of
 * a 5-minute, a 15-minute and a 1-hour window, so that every attempt of a test falls into one
 * window, whatever the time of day. Tests step past a window by moving it.
 */
export const PINNED = new Date("2030-01-01T00:07:30Z");

export let app: TestApp;
export let smtp: SmtpCapture;
export let tenant: TestTenant;
export const password = "a perfectly fine passphrase";

/**
 * Starts the server with the limits reading `clock` (PINNED unless a test moves it), its log lines
 * into `logLines` when given.
 */
export function useLimitsApp(clock: () => Date = () => PINNED, logLines?: string[]): void {
  beforeAll(async () => {
    setRateLimitClock(clock);
    smtp = await startSmtpCapture();
    app = await startTestApp({ worker: true, env: { SMTP_URL: smtp.url }, logLines });
    tenant = await createTenant(app.db.ownerPool, "limited");
  });
  afterAll(async () => {
    setRateLimitClock(undefined);
    await app.stop();
    await smtp.close();
  });
}

/**
 * Per-IP limits: every test speaks from addresses of its own (X-Forwarded-For, which the server
 * trusts from loopback), so one test's attempts do not use another's budget.
 */
let nextNet = 0;
export function addresses(): (host: number) => string {
  const net = nextNet++;
  return (host) => `203.0.${net}.${host}`;
}

export interface Answer {
  status: number;
  code: string | undefined;
  reason: string | undefined;
  retryAfter: string | null;
  body: Record<string, unknown>;
}

/** POST over REST on a connection of its own, from `ip`. */
export async function rest(path: string, body: unknown, ip: string, token?: string): Promise<Answer> {
  const response = await fetch(`${app.url}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      connection: "close",
      "x-forwarded-for": ip,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as { error?: { code: string; details?: { reason?: string } } } & Record<
    string,
    unknown
  >;
  return {
    status: response.status,
    code: json.error?.code,
    reason: json.error?.details?.reason,
    retryAfter: response.headers.get("retry-after"),
    body: json,
  };
}

/** One GraphQL mutation over HTTP on a connection of its own, from `ip`; `code` is its error's. */
export async function graphql(query: string, input: unknown, ip: string, token?: string): Promise<Answer> {
  const response = await fetch(`${app.url}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json",
      connection: "close",
      "x-forwarded-for": ip,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables: { input } }),
  });
  const json = (await response.json()) as {
    errors?: Array<{ extensions?: { code?: string; details?: { reason?: string } } }>;
  } & Record<string, unknown>;
  const error = json.errors?.[0]?.extensions;
  return { status: response.status, code: error?.code, reason: error?.details?.reason, retryAfter: null, body: json };
}

export function countCodes(answers: Answer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const answer of answers) {
    const key = answer.code ?? String(answer.status);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

export function parallel<T>(n: number, attempt: (i: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => attempt(i)));
}

export function registration(slug: string, tag: string) {
  return { tenant: slug, email: `${tag}@example.test`, username: tag, password };
}
