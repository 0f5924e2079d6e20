/**
 * No argon2 work for what cannot succeed: a tenant that does not exist or an unusable reset token
 * costs none; an unknown account of an existing tenant costs one run like a known one.
 */
import { randomBytes } from "node:crypto";

import * as passwords from "../../src/modules/identity/passwords.ts";
import { createUser } from "../helpers/fixtures.ts";
import { addresses, type Answer, app, password, registration, rest, tenant, useLimitsApp } from "./rateLimits.ts";

useLimitsApp();

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
