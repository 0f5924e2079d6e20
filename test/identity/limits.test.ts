/**
 * Abuse limits under real concurrency: N parallel HTTP requests (each its own connection) never
 * get more than `max` checks of a password or code, whatever the transport; per-IP and per-tenant
 * limits on the anonymous operations; no argon2 work for a tenant that does not exist.
 */
import { randomBytes } from "node:crypto";

import { LIMITS, setRateLimitClock } from "../../src/modules/identity/limits.ts";
import * as passwords from "../../src/modules/identity/passwords.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestTenant } from "../helpers/fixtures.ts";
import { bodyOf, startSmtpCapture, type SmtpCapture } from "../helpers/smtp.ts";
import { DOCS, totpCode } from "./helpers.ts";

/**
 * Windows are fixed and aligned to 2000-01-01; the limits read this clock, pinned to the middle of
 * a 5-minute, a 15-minute and a 1-hour window, so that every attempt of a test falls into one
 * window, whatever the time of day. Tests step past a window by moving it.
 */
const PINNED = new Date("2030-01-01T00:07:30Z");
let now = PINNED;

let app: TestApp;
let smtp: SmtpCapture;
let tenant: TestTenant;
const password = "a perfectly fine passphrase";

/**
 * Per-IP limits: every test speaks from addresses of its own (X-Forwarded-For, which the server
 * trusts from loopback), so one test's attempts do not use another's budget.
 */
let nextNet = 0;
function addresses(): (host: number) => string {
  const net = nextNet++;
  return (host) => `203.0.${net}.${host}`;
}

interface Answer {
  status: number;
  code: string | undefined;
  reason: string | undefined;
  retryAfter: string | null;
  body: Record<string, unknown>;
}

/** POST over REST on a connection of its own, from `ip`. */
async function rest(path: string, body: unknown, ip: string, token?: string): Promise<Answer> {
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
async function graphql(query: string, input: unknown, ip: string, token?: string): Promise<Answer> {
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

function countCodes(answers: Answer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const answer of answers) {
    const key = answer.code ?? String(answer.status);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

function parallel<T>(n: number, attempt: (i: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => attempt(i)));
}

beforeAll(async () => {
  setRateLimitClock(() => now);
  smtp = await startSmtpCapture();
  app = await startTestApp({ worker: true, env: { SMTP_URL: smtp.url } });
  tenant = await createTenant(app.db.ownerPool, "limited");
});
afterAll(async () => {
  setRateLimitClock(undefined);
  await app.stop();
  await smtp.close();
});
afterEach(() => {
  now = PINNED;
});

describe("password and code checks are counted before they are made", () => {
  test(
    "40 parallel wrong passwords on one account: exactly 10 are checked, the rest RATE_LIMITED; the right " +
      "password is refused until the next window",
    async () => {
      const user = await createUser(app.db.ownerPool, tenant, "member", { password });
      const ip = addresses();
      const answers = await parallel(40, (i) =>
        rest("/api/auth/login", { tenant: "limited", login: user.email, password: `wrong guess ${i}` }, ip(1)),
      );
      expect(countCodes(answers)).toEqual({
        INVALID_CREDENTIALS: LIMITS.loginPerAccount.max,
        RATE_LIMITED: 40 - LIMITS.loginPerAccount.max,
      });
      // Exactly as many failed checks were made (one audit row each).
      const { rows } = await app.db.ownerPool.query(
        "select count(*)::int as n from app_private.auth_events where type = 'login_failed' and user_id = $1",
        [user.id],
      );
      expect(rows[0].n).toBe(LIMITS.loginPerAccount.max);

      const right = await rest("/api/auth/login", { tenant: "limited", login: user.email, password }, ip(2));
      expect([right.status, right.code]).toEqual([429, "RATE_LIMITED"]);
      expect(Number(right.retryAfter)).toBeGreaterThan(0);
      now = new Date(PINNED.getTime() + Number(right.retryAfter) * 1000);
      expect((await rest("/api/auth/login", { tenant: "limited", login: user.email, password }, ip(2))).status).toBe(
        200,
      );
    },
  );

  test("wrong passwords over REST and GraphQL at once share the account's 10", async () => {
    const user = await createUser(app.db.ownerPool, tenant, "member", { password });
    const ip = addresses();
    const answers = await parallel(30, (i) =>
      i % 2 === 0
        ? rest("/api/auth/login", { tenant: "limited", login: user.username, password: `wrong guess ${i}` }, ip(1))
        : graphql(DOCS.login, { tenant: "limited", login: user.email, password: `wrong guess ${i}` }, ip(2)),
    );
    expect(countCodes(answers)).toEqual({ INVALID_CREDENTIALS: 10, RATE_LIMITED: 20 });
    expect((await graphql(DOCS.login, { tenant: "limited", login: user.email, password }, ip(3))).code).toBe(
      "RATE_LIMITED",
    );
  });

  test("60 parallel wrong passwords from one IP on 60 accounts: exactly 50 are checked", async () => {
    const ip = addresses();
    const answers = await parallel(60, (i) =>
      rest(
        "/api/auth/login",
        { tenant: "limited", login: `nobody-${i}@example.test`, password: "not the password" },
        ip(1),
      ),
    );
    expect(countCodes(answers)).toEqual({
      INVALID_CREDENTIALS: LIMITS.loginPerIp.max,
      RATE_LIMITED: 60 - LIMITS.loginPerIp.max,
    });
    // Another address is not affected.
    expect(
      (
        await rest(
          "/api/auth/login",
          { tenant: "limited", login: "nobody-0@example.test", password: "not the password" },
          ip(2),
        )
      ).code,
    ).toBe("INVALID_CREDENTIALS");
  });

  test(
    "e-mail and username, in any case, share the account's bucket; a success gives its unit back; an unknown " +
      "identifier has a bucket of its own",
    async () => {
      const user = await createUser(app.db.ownerPool, tenant, "member", { password });
      const ip = addresses();
      const login = (identifier: string, pass: string) =>
        rest("/api/auth/login", { tenant: "limited", login: identifier, password: pass }, ip(1));
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await login(user.email, `wrong guess ${i}`)).status);
      statuses.push((await login(user.username, password)).status); // a success: not a failure
      for (let i = 4; i < 9; i++) statuses.push((await login(user.username.toUpperCase(), `wrong guess ${i}`)).status);
      statuses.push((await login(user.email.toUpperCase(), "wrong guess 9")).status);
      expect(statuses).toEqual([401, 401, 401, 401, 200, 401, 401, 401, 401, 401, 401]);
      // Ten failures through three spellings: the account is limited, by any name.
      for (const identifier of [user.email, user.username])
        expect((await login(identifier, password)).code).toBe("RATE_LIMITED");

      const ghost = await parallel(12, (i) =>
        login(i % 2 ? "Ghost@Example.test" : "ghost@example.test", "not the password"),
      );
      expect(countCodes(ghost)).toEqual({ INVALID_CREDENTIALS: 10, RATE_LIMITED: 2 });
    },
  );

  test(
    "60 parallel wrong TOTP codes on one challenge: exactly 5 are checked; " + "the right code is refused after",
    async () => {
      const user = await createUser(app.db.ownerPool, tenant, "member", { password });
      const ip = addresses();
      const { secret } = (await rest("/api/auth/2fa/enable", {}, ip(1), user.token)).body as { secret: string };
      expect((await rest("/api/auth/2fa/confirm", { code: await totpCode(secret) }, ip(1), user.token)).status).toBe(
        200,
      );
      const challenge = await rest("/api/auth/login", { tenant: "limited", login: user.email, password }, ip(1));
      const twoFactorToken = challenge.body.twoFactorToken as string;
      expect(twoFactorToken).toEqual(expect.any(String));

      const accepted = await Promise.all([-1, 0, 1, 2].map((offset) => totpCode(secret, offset)));
      const wrongCodes = Array.from({ length: 100 }, (_, i) => String(100_000 + i * 7919))
        .filter((code) => !accepted.includes(code))
        .slice(0, 60);
      const answers = await parallel(60, (i) =>
        rest("/api/auth/2fa/verify", { twoFactorToken, code: wrongCodes[i] }, ip(2 + (i % 3))),
      );
      expect(countCodes(answers)).toEqual({
        INVALID_TWO_FACTOR_CODE: LIMITS.totpPerUser.max,
        RATE_LIMITED: 60 - LIMITS.totpPerUser.max,
      });

      const right = await rest("/api/auth/2fa/verify", { twoFactorToken, code: await totpCode(secret, 1) }, ip(9));
      expect([right.status, right.code]).toEqual([429, "RATE_LIMITED"]);
      const { rows } = await app.db.ownerPool.query(
        "select count(*)::int as n from app_private.sessions where user_id = $1 and id <> $2",
        [user.id, user.sessionId],
      );
      expect(rows[0].n).toBe(0);
    },
  );

  test(
    "changePassword: of 20 parallel wrong current passwords (REST and GraphQL) exactly 5 are checked; then " +
      "the right one is refused too",
    async () => {
      const user = await createUser(app.db.ownerPool, tenant, "member", { password });
      const ip = addresses();
      const newPassword = "a brand new passphrase";
      const answers = await parallel(20, (i) =>
        i % 2 === 0
          ? rest("/api/auth/password/change", { currentPassword: `wrong current ${i}`, newPassword }, ip(1), user.token)
          : graphql(DOCS.changePassword, { currentPassword: `wrong current ${i}`, newPassword }, ip(1), user.token),
      );
      expect(countCodes(answers)).toEqual({
        INVALID_CREDENTIALS: LIMITS.changePasswordPerUser.max,
        RATE_LIMITED: 20 - LIMITS.changePasswordPerUser.max,
      });
      const right = await graphql(DOCS.changePassword, { currentPassword: password, newPassword }, ip(2), user.token);
      expect(right.code).toBe("RATE_LIMITED");
      expect(
        (await rest("/api/auth/password/change", { currentPassword: password, newPassword }, ip(2), user.token)).status,
      ).toBe(429);
      // The password did not change; the next window lets the right one in.
      expect((await rest("/api/auth/login", { tenant: "limited", login: user.email, password }, ip(3))).status).toBe(
        200,
      );
      now = new Date(PINNED.getTime() + LIMITS.changePasswordPerUser.windowSeconds * 1000);
      expect(
        (await rest("/api/auth/password/change", { currentPassword: password, newPassword }, ip(2), user.token)).status,
      ).toBe(200);
    },
  );
});

describe("anonymous operations are limited per IP and per tenant", () => {
  test("register: 25 parallel from one IP, 20 are accepted; another IP still registers", async () => {
    const ip = addresses();
    const tag = randomBytes(3).toString("hex");
    const answers = await parallel(25, (i) =>
      rest("/api/auth/register", registration("limited", `r${tag}-${i}`), ip(1)),
    );
    expect(countCodes(answers)).toEqual({
      202: LIMITS.registrationPerIp.max,
      RATE_LIMITED: 25 - LIMITS.registrationPerIp.max,
    });
    const { rows } = await app.db.ownerPool.query(
      "select count(*)::int as n from app_private.registrations where username like $1",
      [`r${tag}-%`],
    );
    expect(rows[0].n).toBe(LIMITS.registrationPerIp.max);
    expect((await graphql(DOCS.register, registration("limited", `r${tag}-x`), ip(1))).code).toBe("RATE_LIMITED");
    expect((await graphql(DOCS.register, registration("limited", `r${tag}-y`), ip(2))).code).toBeUndefined();
  });

  test("register: 30 parallel registrations of one e-mail (from 30 addresses) issue exactly 5", async () => {
    const ip = addresses();
    const answers = await parallel(30, (i) =>
      rest("/api/auth/register", { ...registration("limited", `same${i}`), email: "same@example.test" }, ip(i)),
    );
    expect(countCodes(answers)).toEqual({
      202: LIMITS.registrationPerEmail.max,
      RATE_LIMITED: 30 - LIMITS.registrationPerEmail.max,
    });
    const { rows } = await app.db.ownerPool.query(
      "select count(*)::int as n from app_private.registrations where email = 'same@example.test'",
    );
    expect(rows[0].n).toBe(LIMITS.registrationPerEmail.max);
  });

  test(
    "register: 200 per tenant per hour, a tenant that does not exist included, " + "without any argon2 work for it",
    async () => {
      const ip = addresses();
      const before = passwords.argon2Count();
      // 210 requests from 14 addresses (15 each, under the per-IP 20).
      const answers = await parallel(210, (i) =>
        rest("/api/auth/register", registration("no-such-tenant", `g${i}`), ip(i % 14)),
      );
      expect(countCodes(answers)).toEqual({
        202: LIMITS.registrationPerTenant.max,
        RATE_LIMITED: 210 - LIMITS.registrationPerTenant.max,
      });
      expect(passwords.argon2Count() - before).toBe(0);
    },
  );

  test(
    "confirmRegistration: 30 wrong codes per IP per hour (35 in parallel), then even the right code is " +
      "refused from that IP",
    async () => {
      const ip = addresses();
      const issued = await rest("/api/auth/register", registration("limited", "confirmer"), ip(1));
      const registrationToken = issued.body.registrationToken as string;
      const code = /\b(\d{6})\b/.exec(bodyOf(await smtp.waitFor("confirmer@example.test", /confirmation code/)))![1]!;

      const answers = await parallel(35, () =>
        rest(
          "/api/auth/register/confirm",
          { registrationToken: randomBytes(32).toString("base64url"), code: "123456" },
          ip(2),
        ),
      );
      expect(countCodes(answers)).toEqual({
        INVALID_TOKEN: LIMITS.confirmRegistrationPerIp.max,
        RATE_LIMITED: 35 - LIMITS.confirmRegistrationPerIp.max,
      });
      expect((await rest("/api/auth/register/confirm", { registrationToken, code }, ip(2))).code).toBe("RATE_LIMITED");
      expect((await rest("/api/auth/register/confirm", { registrationToken, code }, ip(3))).status).toBe(201);
    },
  );

  test("forgotPassword: 10 per IP per hour (12 in parallel), 100 per tenant per hour", async () => {
    const ip = addresses();
    const perIp = await parallel(12, (i) =>
      rest("/api/auth/password/forgot", { tenant: "limited", email: `someone-${i}@example.test` }, ip(1)),
    );
    expect(countCodes(perIp)).toEqual({
      202: LIMITS.forgotPasswordPerIp.max,
      RATE_LIMITED: 12 - LIMITS.forgotPasswordPerIp.max,
    });

    await createTenant(app.db.ownerPool, "mailroom");
    // 105 requests from 11 other addresses (at most 10 each).
    const perTenant = await parallel(105, (i) =>
      rest("/api/auth/password/forgot", { tenant: "mailroom", email: `reader-${i}@example.test` }, ip(10 + (i % 11))),
    );
    expect(countCodes(perTenant)).toEqual({
      202: LIMITS.forgotPasswordPerTenant.max,
      RATE_LIMITED: 105 - LIMITS.forgotPasswordPerTenant.max,
    });
  });
});

test(
  "no argon2 work for a tenant that does not exist nor for an unusable reset token; an unknown account of an " +
    "existing tenant costs one run like a known one",
  async () => {
    const ip = addresses();
    const user = await createUser(app.db.ownerPool, tenant, "member", { password });
    const runs = async (
      attempt: () => Promise<Answer>,
    ): Promise<{ runs: number; answer: Pick<Answer, "status" | "code"> & { keys: string[] } }> => {
      const before = passwords.argon2Count();
      const answer = await attempt();
      return {
        runs: passwords.argon2Count() - before,
        answer: { status: answer.status, code: answer.code, keys: Object.keys(answer.body).sort() },
      };
    };
    const knownTenantRegister = await runs(() => rest("/api/auth/register", registration("limited", "costly"), ip(1)));
    const unknownTenantRegister = await runs(() =>
      rest("/api/auth/register", registration("nowhere", "costly"), ip(1)),
    );
    expect(knownTenantRegister).toEqual({
      runs: 1,
      answer: { status: 202, code: undefined, keys: ["expiresAt", "registrationToken"] },
    });
    expect(unknownTenantRegister).toEqual({ runs: 0, answer: knownTenantRegister.answer });

    const failed = { status: 401, code: "INVALID_CREDENTIALS", keys: ["error"] };
    expect(
      await runs(() =>
        rest("/api/auth/login", { tenant: "limited", login: user.email, password: "not the password" }, ip(1)),
      ),
    ).toEqual({ runs: 1, answer: failed });
    expect(
      await runs(() =>
        rest(
          "/api/auth/login",
          { tenant: "limited", login: "phantom@example.test", password: "not the password" },
          ip(1),
        ),
      ),
    ).toEqual({ runs: 1, answer: failed });
    expect(
      await runs(() =>
        rest(
          "/api/auth/login",
          { tenant: "nowhere", login: "phantom@example.test", password: "not the password" },
          ip(1),
        ),
      ),
    ).toEqual({ runs: 0, answer: failed });

    expect(
      await runs(() =>
        rest(
          "/api/auth/reset/confirm",
          { token: randomBytes(32).toString("base64url"), newPassword: "a brand new passphrase" },
          ip(1),
        ),
      ),
    ).toEqual({
      runs: 0,
      answer: { status: 401, code: "INVALID_TOKEN", keys: ["error"] },
    });
  },
);

function registration(slug: string, tag: string) {
  return { tenant: slug, email: `${tag}@example.test`, username: tag, password };
}
