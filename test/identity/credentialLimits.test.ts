/**
 * Abuse limits on password and code checks under real concurrency: N parallel HTTP requests (each its
 * own connection) never get more than `max` checks of a password or code, whatever the transport.
 */
import { LIMITS } from "../../src/modules/identity/limits.ts";
import { createUser } from "../helpers/fixtures.ts";
import { DOCS, totpCode } from "./helpers.ts";
import {
  addresses,
  app,
  countCodes,
  graphql,
  PINNED,
  parallel,
  password,
  rest,
  tenant,
  useLimitsApp,
} from "./rateLimits.ts";

/** Tests step past a window by moving the limits' clock. */
let now = PINNED;
useLimitsApp(() => now);
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
      const login = (identifier: string, pass: string, from = ip(1)) =>
        rest("/api/auth/login", { tenant: "limited", login: identifier, password: pass }, from);
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await login(user.email, `wrong guess ${i}`)).status);
      // A success (from elsewhere: ip(1) stays unknown, its failures the account's): not a failure.
      statuses.push((await login(user.username, password, ip(2))).status);
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

  test.each([
    ["TOTP code", (secret: string) => totpCode(secret, 1)],
    ["recovery code", async (_secret: string, recoveryCodes: string[]) => recoveryCodes[0]!],
  ])("a used %s presented again is refused without spending any of the 5 checks", async (_kind, rightCode) => {
    const user = await createUser(app.db.ownerPool, tenant, "member", { password });
    const ip = addresses();
    const { secret } = (await rest("/api/auth/2fa/enable", {}, ip(1), user.token)).body as { secret: string };
    const confirmed = await rest("/api/auth/2fa/confirm", { code: await totpCode(secret) }, ip(1), user.token);
    expect(confirmed.status).toBe(200);
    const login = async () =>
      (await rest("/api/auth/login", { tenant: "limited", login: user.email, password }, ip(1))).body
        .twoFactorToken as string;
    // A double submit: the same challenge and code at once signs in once.
    const twoFactorToken = await login();
    const code = await rightCode(secret, confirmed.body.recoveryCodes as string[]);
    const answers = await parallel(9, () => rest("/api/auth/2fa/verify", { twoFactorToken, code }, ip(2)));
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    for (const answer of answers.filter((answer) => answer.status !== 200))
      expect(["INVALID_TWO_FACTOR_CODE", "INVALID_TOKEN", "RATE_LIMITED"]).toContain(answer.code);
    // The same code on other challenges (other tabs, a retry after a lost answer) is refused each time.
    for (let i = 0; i < LIMITS.totpPerUser.max + 1; i++) {
      const replay = await rest("/api/auth/2fa/verify", { twoFactorToken: await login(), code }, ip(2));
      expect(replay.code).toBe("INVALID_TWO_FACTOR_CODE");
    }

    // The budget is whole: five wrong codes are checked, the sixth is RATE_LIMITED.
    const next = await login();
    const refused = [];
    for (const wrong of ["000001", "000002", "000003", "000004", "000005", "000006"])
      refused.push((await rest("/api/auth/2fa/verify", { twoFactorToken: next, code: wrong }, ip(3))).code);
    expect(refused).toEqual([...Array(LIMITS.totpPerUser.max).fill("INVALID_TWO_FACTOR_CODE"), "RATE_LIMITED"]);
  });

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

describe("guesses from elsewhere do not lock the owner out", () => {
  /** Signs `login` in from `ip` with the right password; its session records the address. */
  async function signIn(login: string, ip: string, secret = password) {
    const answer = await rest("/api/auth/login", { tenant: "limited", login, password: secret }, ip);
    expect(answer.status).toBe(200);
    return answer.body as { accessToken: string };
  }

  test(
    "40 parallel wrong passwords from elsewhere: the owner signs in from an address they signed in from; " +
      "from there guesses have 10 of their own",
    async () => {
      // Fails on the code before: the account's 10 failures refused its owner too, anywhere, for the window.
      const user = await createUser(app.db.ownerPool, tenant, "member", { password });
      const ip = addresses();
      await signIn(user.email, ip(1));
      const guesses = await parallel(40, (i) =>
        rest(
          "/api/auth/login",
          { tenant: "limited", login: user.email, password: `wrong guess ${i}` },
          ip(2 + (i % 4)),
        ),
      );
      expect(countCodes(guesses)).toEqual({ INVALID_CREDENTIALS: 10, RATE_LIMITED: 30 });
      // From the owner's address, the right password works (their username shares the account).
      await signIn(user.username, ip(1));
      // From an address they never signed in from, it waits for the next window.
      expect((await rest("/api/auth/login", { tenant: "limited", login: user.email, password }, ip(9))).code).toBe(
        "RATE_LIMITED",
      );
      // Guesses from the owner's address are limited as well, in a bucket of their own.
      const fromOwnAddress = await parallel(20, (i) =>
        graphql(DOCS.login, { tenant: "limited", login: user.email, password: `guess at home ${i}` }, ip(1)),
      );
      expect(countCodes(fromOwnAddress)).toEqual({ INVALID_CREDENTIALS: 10, RATE_LIMITED: 10 });
      expect((await rest("/api/auth/login", { tenant: "limited", login: user.email, password }, ip(1))).code).toBe(
        "RATE_LIMITED",
      );
      const { rows } = await app.db.ownerPool.query(
        "select count(*)::int as n from app_private.auth_events where type = 'login_failed' and user_id = $1",
        [user.id],
      );
      expect(rows[0].n).toBe(20);
    },
  );

  test("an address is forgotten when the password changes, or when its session was revoked as stolen", async () => {
    const user = await createUser(app.db.ownerPool, tenant, "member", { password });
    const ip = addresses();
    // Someone who knew the old password signed in from ip(1); the owner then changed it from ip(2).
    await signIn(user.email, ip(1));
    const owner = await signIn(user.email, ip(2));
    const newPassword = "the owner's new passphrase";
    expect(
      (await rest("/api/auth/password/change", { currentPassword: password, newPassword }, ip(2), owner.accessToken))
        .status,
    ).toBe(200);
    // ip(1)'s guesses now count in the account's bucket: ten spend it for everyone else too.
    const guesses = await parallel(12, (i) =>
      rest("/api/auth/login", { tenant: "limited", login: user.email, password: `wrong guess ${i}` }, ip(1)),
    );
    expect(countCodes(guesses)).toEqual({ INVALID_CREDENTIALS: 10, RATE_LIMITED: 2 });
    expect(
      (await rest("/api/auth/login", { tenant: "limited", login: user.email, password: newPassword }, ip(3))).code,
    ).toBe("RATE_LIMITED");

    // A session revoked as stolen (its refresh token presented twice) makes its address no one's.
    const other = await createUser(app.db.ownerPool, tenant, "member", { password });
    await signIn(other.email, ip(4));
    await app.db.ownerPool.query(
      "update app_private.sessions set revoked_at = now(), revoked_reason = 'refresh_token_reused' where user_id = $1",
      [other.id],
    );
    const stolen = await parallel(12, (i) =>
      rest("/api/auth/login", { tenant: "limited", login: other.email, password: `wrong guess ${i}` }, ip(4)),
    );
    expect(countCodes(stolen)).toEqual({ INVALID_CREDENTIALS: 10, RATE_LIMITED: 2 });
  });

  test("forgotten-password requests from elsewhere do not keep the owner from a reset at their address", async () => {
    const user = await createUser(app.db.ownerPool, tenant, "member", { password });
    const ip = addresses();
    await signIn(user.email, ip(1));
    const flood = await parallel(6, (i) =>
      rest("/api/auth/password/forgot", { tenant: "limited", email: user.email }, ip(2 + (i % 3))),
    );
    expect(countCodes(flood)).toEqual({ 202: LIMITS.forgotPasswordPerEmail.max, RATE_LIMITED: 3 });
    expect((await rest("/api/auth/password/forgot", { tenant: "limited", email: user.email }, ip(9))).code).toBe(
      "RATE_LIMITED",
    );
    // From the owner's address: accepted, within a limit of its own.
    const fromOwner = await parallel(5, () =>
      rest("/api/auth/password/forgot", { tenant: "limited", email: user.email }, ip(1)),
    );
    expect(countCodes(fromOwner)).toEqual({ 202: LIMITS.forgotPasswordPerEmail.max, RATE_LIMITED: 2 });
    const { rows } = await app.db.ownerPool.query(
      "select count(*)::int as n from app_private.password_resets where user_id = $1",
      [user.id],
    );
    expect(rows[0].n).toBe(2 * LIMITS.forgotPasswordPerEmail.max);
  });
});
