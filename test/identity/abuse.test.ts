/** Brute force and account enumeration: what an attacker would try. */
import request from "supertest";

import { setRateLimitClock } from "../../src/modules/identity/limits.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createSession, createTenant, createUser, mintToken, type TestUser } from "../helpers/fixtures.ts";
import { bodyOf, startSmtpCapture, type SmtpCapture } from "../helpers/smtp.ts";
import { DOCS, totpCode } from "./helpers.ts";

/**
 * Rate limits use fixed windows aligned to 2000-01-01. The limits read a clock this file pins to
 * the middle of a 15-minute window (and of a 5-minute one): every attempt counted here falls into
 * one window, whatever the time of day, with no waiting; a test steps past the window by moving it.
 */
const PINNED = new Date("2030-01-01T00:07:30Z");
let now = PINNED;

let app: TestApp;
let smtp: SmtpCapture;
let known: TestUser;
let other: TestUser;
const password = "a perfectly fine passphrase";

/**
 * Per-IP limits count every request of this file from 127.0.0.1 together; each test speaks from
 * addresses of its own (X-Forwarded-For, trusted from loopback) so that one test's attempts do not
 * use up another's budget.
 */
const XFF = "X-Forwarded-For";

beforeAll(async () => {
  setRateLimitClock(() => now);
  smtp = await startSmtpCapture();
  app = await startTestApp({ worker: true, env: { SMTP_URL: smtp.url } });
  const tenant = await createTenant(app.db.ownerPool, "guarded");
  known = await createUser(app.db.ownerPool, tenant, "member", { password });
  other = await createUser(app.db.ownerPool, tenant, "member", { password });
});
afterAll(async () => {
  setRateLimitClock(undefined);
  await app.stop();
  await smtp.close();
});

test(
  "wrong passwords past the limit are RATE_LIMITED with Retry-After, even when the next one is right; the " +
    "next window lets it in",
  async () => {
    const api = request(app.url);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      statuses.push(
        (
          await api
            .post("/api/auth/login")
            .set(XFF, "198.51.100.1")
            .send({ tenant: "guarded", login: known.email, password: `wrong guess number ${i}` })
        ).status,
      );
    }
    expect(statuses).toEqual(Array(10).fill(401));
    const limited = await api.post("/api/auth/login").send({ tenant: "guarded", login: known.email, password });
    expect([limited.status, limited.body.error.code]).toEqual([429, "RATE_LIMITED"]);
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    const overGraphql = await app.graphql(DOCS.login, { input: { tenant: "guarded", login: known.email, password } });
    expect(overGraphql.body.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
    // Retry-After seconds later, the next window has begun.
    now = new Date(PINNED.getTime() + Number(limited.headers["retry-after"]) * 1000);
    try {
      expect((await api.post("/api/auth/login").send({ tenant: "guarded", login: known.email, password })).status).toBe(
        200,
      );
    } finally {
      now = PINNED;
    }
  },
);

test(
  "100 parallel wrong codes on one registration: none accepted, the registration locks, the right code is " +
    "refused after",
  async () => {
    const { registrationToken } = (
      await request(app.url)
        .post("/api/auth/register")
        .set(XFF, "198.51.100.2")
        .send({ tenant: "guarded", email: "target@example.test", username: "target", password })
    ).body as { registrationToken: string };
    const code = /\b(\d{6})\b/.exec(bodyOf(await smtp.waitFor("target@example.test", /confirmation code/)))![1]!;
    const wrongCodes = Array.from({ length: 100 }, (_, i) =>
      String((Number(code) + 1 + i) % 1_000_000).padStart(6, "0"),
    );

    // Real parallel connections: each request is its own HTTP connection and database transaction.
    // From 5 addresses (20 each, under the per-IP limit of wrong codes): the registration's own lock is under test.
    const answers = await Promise.all(
      wrongCodes.map((wrong, i) =>
        fetch(`${app.url}/api/auth/register/confirm`, {
          method: "POST",
          headers: { "content-type": "application/json", connection: "close", [XFF]: `198.51.101.${i % 5}` },
          body: JSON.stringify({ registrationToken, code: wrong }),
        }).then(async (response) => ({
          status: response.status,
          body: (await response.json()) as { error?: { code: string; details?: { reason?: string } } },
        })),
      ),
    );
    expect(answers.filter((answer) => answer.status < 400)).toEqual([]);
    expect(new Set(answers.map((answer) => answer.body.error?.code))).toEqual(new Set(["INVALID_TOKEN"]));
    expect(answers.filter((answer) => answer.body.error?.details?.reason === "WRONG_CODE")).toHaveLength(5);

    const { rows } = await app.db.ownerPool.query(
      "select attempts, locked_at from app_private.registrations where email = 'target@example.test'",
    );
    expect(rows).toEqual([{ attempts: 5, locked_at: expect.any(Date) }]);

    const right = await request(app.url)
      .post("/api/auth/register/confirm")
      .set(XFF, "198.51.100.3")
      .send({ registrationToken, code });
    expect([right.status, right.body.error.code, right.body.error.details.reason]).toEqual([
      401,
      "INVALID_TOKEN",
      "LOCKED",
    ]);
    expect(
      (await app.db.ownerPool.query("select 1 from app_public.users where email = 'target@example.test'")).rowCount,
    ).toBe(0);
  },
);

describe("no response tells whether an e-mail is registered", () => {
  const shape = (response: request.Response) => ({
    status: response.status,
    keys: Object.keys(response.body).sort(),
    error: response.body.error,
  });

  test("forgot password answers the same for known and unknown e-mails", async () => {
    const api = request(app.url);
    const knownAnswer = await api
      .post("/api/auth/password/forgot")
      .set(XFF, "198.51.100.4")
      .send({ tenant: "guarded", email: known.email });
    const unknownAnswer = await api
      .post("/api/auth/password/forgot")
      .set(XFF, "198.51.100.4")
      .send({ tenant: "guarded", email: "nobody@example.test" });
    expect(knownAnswer.body).toEqual({ success: true });
    expect(unknownAnswer.body).toEqual(knownAnswer.body);
    expect(unknownAnswer.status).toBe(knownAnswer.status);
    await smtp.waitFor(known.email, /Reset your/);
    expect(smtp.messages.filter((m) => m.to.includes("nobody@example.test"))).toEqual([]);
  });

  test("login answers the same for a wrong password and an unknown account", async () => {
    const api = request(app.url);
    // `other`: `known` used up its failed logins in the first test (e-mail and username share them).
    const wrongPassword = await api
      .post("/api/auth/login")
      .set(XFF, "198.51.100.5")
      .send({ tenant: "guarded", login: other.username, password: "not the password at all" });
    const unknownAccount = await api
      .post("/api/auth/login")
      .set(XFF, "198.51.100.5")
      .send({ tenant: "guarded", login: "ghost@example.test", password: "not the password at all" });
    const unknownTenant = await api
      .post("/api/auth/login")
      .set(XFF, "198.51.100.5")
      .send({ tenant: "no-such-tenant", login: "ghost@example.test", password: "not the password at all" });
    expect(shape(wrongPassword)).toEqual({
      status: 401,
      keys: ["error"],
      error: { code: "INVALID_CREDENTIALS", message: expect.any(String) },
    });
    expect(shape(unknownAccount)).toEqual(shape(wrongPassword));
    expect(shape(unknownTenant)).toEqual(shape(wrongPassword));
  });

  test(
    "register answers the same for a taken and a free e-mail; " + "the owner of the taken one is told by e-mail",
    async () => {
      const api = request(app.url);
      const taken = await api
        .post("/api/auth/register")
        .set(XFF, "198.51.100.6")
        .send({ tenant: "guarded", email: known.email, username: "someone-new", password });
      const free = await api
        .post("/api/auth/register")
        .set(XFF, "198.51.100.6")
        .send({ tenant: "guarded", email: "fresh@example.test", username: "fresh-one", password });
      expect(shape(taken)).toEqual({ status: 202, keys: ["expiresAt", "registrationToken"], error: undefined });
      expect(shape(free)).toEqual(shape(taken));
      await smtp.waitFor(known.email, /tried to register/);
      const confirm = await api
        .post("/api/auth/register/confirm")
        .set(XFF, "198.51.100.6")
        .send({ registrationToken: taken.body.registrationToken, code: "123456" });
      expect([confirm.status, confirm.body.error.code]).toEqual([401, "INVALID_TOKEN"]);
    },
  );

  test("confirming with wrong codes answers the same for a taken and a free e-mail, locked after 5", async () => {
    // Fails on the code that stored nothing for a taken address: its token was EXPIRED at once.
    const api = request(app.url);
    const reasons = async (email: string, username: string, from: string) => {
      const issued = await api
        .post("/api/auth/register")
        .set(XFF, from)
        .send({ tenant: "guarded", email, username, password });
      expect(issued.status).toBe(202);
      const answers: string[] = [];
      for (let i = 0; i < 6; i++) {
        const confirm = await api
          .post("/api/auth/register/confirm")
          .set(XFF, from)
          .send({ registrationToken: issued.body.registrationToken, code: "000000" });
        answers.push(`${confirm.status} ${confirm.body.error.code} ${confirm.body.error.details?.reason}`);
      }
      return answers;
    };
    const taken = await reasons(known.email, "probe-taken", "198.51.100.11");
    const free = await reasons("still-free@example.test", "probe-free", "198.51.100.12");
    expect(free).toEqual([...Array(5).fill("401 INVALID_TOKEN WRONG_CODE"), "401 INVALID_TOKEN LOCKED"]);
    expect(taken).toEqual(free);
  });

  test("with a taken username, a taken e-mail answers USERNAME_TAKEN as a free one does", async () => {
    const api = request(app.url);
    const attempt = (email: string) =>
      api
        .post("/api/auth/register")
        .set(XFF, "198.51.100.10")
        .send({ tenant: "guarded", email, username: other.username, password });
    const free = await attempt("never-registered@example.test");
    const taken = await attempt(known.email);
    expect([free.status, free.body.error.details.reason]).toEqual([409, "USERNAME_TAKEN"]);
    expect(shape(taken)).toEqual(shape(free));
  });
});

test("forgotten-password requests are limited per e-mail, known or not", async () => {
  const api = request(app.url);
  for (const address of [known.email, "unknown-person@example.test"]) {
    const answers = [];
    for (let i = 0; i < 4; i++)
      answers.push(
        (
          await api
            .post("/api/auth/password/forgot")
            .set(XFF, "198.51.100.7")
            .send({ tenant: "guarded", email: address })
        ).status,
      );
    // The known address already used one request in the enumeration test above.
    expect(answers.at(-1)).toBe(429);
  }
});

test("an expired registration is refused even with the right code", async () => {
  const { registrationToken } = (
    await request(app.url)
      .post("/api/auth/register")
      .set(XFF, "198.51.100.8")
      .send({ tenant: "guarded", email: "late@example.test", username: "late", password })
  ).body as { registrationToken: string };
  const code = /\b(\d{6})\b/.exec(bodyOf(await smtp.waitFor("late@example.test", /confirmation code/)))![1];
  await app.db.ownerPool.query(
    "update app_private.registrations set expires_at = now() - interval '1 second' where email = 'late@example.test'",
  );
  const answer = await request(app.url)
    .post("/api/auth/register/confirm")
    .set(XFF, "198.51.100.8")
    .send({ registrationToken, code });
  expect([answer.status, answer.body.error.code, answer.body.error.details.reason]).toEqual([
    401,
    "INVALID_TOKEN",
    "EXPIRED",
  ]);
});

test("wrong TOTP codes are limited per user", async () => {
  const sid = await createSession(app.db.ownerPool, known.id);
  const token = mintToken({ sub: known.id, tid: known.tenantId, role: "member", sid });
  const api = request(app.url);
  const { secret } = (await api.post("/api/auth/2fa/enable").set("Authorization", `Bearer ${token}`)).body as {
    secret: string;
  };
  const statuses = [];
  // A code that is none of the accepted ones (the current step ± 1), not a fixed "000000".
  const accepted = await Promise.all([-1, 0, 1].map((offset) => totpCode(secret, offset)));
  const wrong = ["000000", "111111", "222222", "333333"].find((code) => !accepted.includes(code))!;
  for (let i = 0; i < 6; i++)
    statuses.push(
      (await api.post("/api/auth/2fa/confirm").set("Authorization", `Bearer ${token}`).send({ code: wrong })).status,
    );
  expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  const right = await api
    .post("/api/auth/2fa/confirm")
    .set("Authorization", `Bearer ${token}`)
    .send({ code: await totpCode(secret) });
  expect(right.status).toBe(429);
});
