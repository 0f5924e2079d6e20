/** The payments variables a deployment is refused for. */
import { randomBytes } from "node:crypto";
import { problemsOf } from "../helpers/config.ts";

const fresh = () => randomBytes(24).toString("base64url");
const hardened = (env: "stage" | "prod") => ({
  APP_ENV: env,
  DATABASE_URL: `postgres://tessera:${fresh()}@db.internal/tessera`,
  DATABASE_AUTHENTICATOR_URL: `postgres://tessera_authenticator:${fresh()}@db.internal/tessera`,
  JWT_SECRET: fresh(),
  TOTP_ENCODE_SECRET: fresh(),
});

test("the mock provider, where anyone may pay, is refused in production; development and staging take it", () => {
  // Fails on the code before the fix: production took it, and its poller settled what was pressed.
  const mock = { MOCK_PAYMENTS_PROVIDER_URL: "http://127.0.0.1:8091" };
  expect(problemsOf({ ...hardened("prod"), ...mock })).toEqual([
    "MOCK_PAYMENTS_PROVIDER_URL: the mock provider is refused with APP_ENV=prod (anyone may pay there)",
  ]);
  expect(problemsOf({ ...hardened("stage"), ...mock })).toEqual([]);
  expect(problemsOf(mock)).toEqual([]);
  expect(problemsOf(hardened("prod"))).toEqual([]);
});
