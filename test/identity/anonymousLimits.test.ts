/**
 * Abuse limits under real concurrency on the anonymous operations: per IP, per e-mail and per tenant,
 * a tenant that does not exist included.
 */
import { randomBytes } from "node:crypto";

import { LIMITS } from "../../src/modules/identity/limits.ts";
import * as passwords from "../../src/modules/identity/passwords.ts";
import { createTenant } from "../helpers/fixtures.ts";
import { bodyOf } from "../helpers/smtp.ts";
import { DOCS } from "./helpers.ts";
import { addresses, app, countCodes, graphql, parallel, registration, rest, smtp, useLimitsApp } from "./rateLimits.ts";

useLimitsApp();

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

  test("register: an e-mail spelled in NFC and in NFD is one address, for its limit and as stored", async () => {
    const ip = addresses();
    const nfc = "j\u00fcrgen.m\u00fcller@example.test";
    const nfd = nfc.normalize("NFD");
    expect(nfd).not.toBe(nfc);
    const answers = await parallel(12, (i) =>
      rest("/api/auth/register", { ...registration("limited", `nfc${i}`), email: i % 2 ? nfd : nfc }, ip(i)),
    );
    expect(countCodes(answers)).toEqual({
      202: LIMITS.registrationPerEmail.max,
      RATE_LIMITED: 12 - LIMITS.registrationPerEmail.max,
    });
    const { rows } = await app.db.ownerPool.query<{ email: string; n: number }>(
      "select email::text, count(*)::int as n from app_private.registrations where username like 'nfc%' group by 1",
    );
    expect(rows).toEqual([{ email: nfc, n: LIMITS.registrationPerEmail.max }]);
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

  test("confirmRegistration: the right code sent again (USED) spends none of the IP's 30", async () => {
    const ip = addresses();
    const confirmed = async (tag: string) => {
      const issued = await rest("/api/auth/register", registration("limited", tag), ip(1));
      const mail = await smtp.waitFor(`${tag}@example.test`, /confirmation code/);
      return {
        registrationToken: issued.body.registrationToken as string,
        code: /\b(\d{6})\b/.exec(bodyOf(mail))![1]!,
      };
    };
    const first = await confirmed("used-again");
    expect((await rest("/api/auth/register/confirm", first, ip(2))).status).toBe(201);
    // A retrying confirm page, or many people behind one address: 35 more at once, each USED.
    const again = await parallel(35, () => rest("/api/auth/register/confirm", first, ip(2)));
    expect(countCodes(again)).toEqual({ INVALID_TOKEN: 35 });
    expect(again.map((answer) => answer.reason)).toEqual(Array(35).fill("USED"));
    expect((await rest("/api/auth/register/confirm", await confirmed("after-used"), ip(2))).status).toBe(201);
  });

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
