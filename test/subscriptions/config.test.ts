/** The provider's variables, and the key credentials are sealed with (not the TOTP secrets' key). */
import { loadConfig } from "../../src/modules/index.ts";
import { subscriptionsConfig } from "../../src/modules/subscriptions/config.ts";
import { credentialsBox } from "../../src/modules/subscriptions/credentials.ts";
import { makeSecretBox } from "../../src/platform/auth/secrets.ts";
import { freshSecret as fresh, hardenedEnv, problemsOf } from "../helpers/config.ts";

const PROD = hardenedEnv();

test("the provider is optional; its token needs its URL, and https in prod; its calls at once are bounded", () => {
  expect(subscriptionsConfig.of(loadConfig({})).contms).toBeUndefined();
  const token = fresh();
  expect(
    subscriptionsConfig.of(loadConfig({ CONTMS_API_URL: "http://127.0.0.1:9/", CONTMS_API_TOKEN: token })),
  ).toEqual({ contms: { apiUrl: "http://127.0.0.1:9/", apiToken: token }, concurrency: 2 });
  expect(subscriptionsConfig.of(loadConfig({ CONTMS_CONCURRENCY: "7" })).concurrency).toBe(7);
  for (const value of ["0", "101", "1.5", "two", "infinity"])
    expect([value, problemsOf({ CONTMS_CONCURRENCY: value })]).toEqual([
      value,
      [expect.stringMatching(/^CONTMS_CONCURRENCY: /)],
    ]);
  expect(problemsOf({ CONTMS_API_TOKEN: token })).toEqual(["CONTMS_API_TOKEN: is set without CONTMS_API_URL"]);
  expect(problemsOf({ CONTMS_API_URL: "ftp://contms.example" })).toHaveLength(1);
  expect(problemsOf({ ...PROD, CONTMS_API_URL: "http://contms.example", CONTMS_API_TOKEN: token })).toEqual([
    "CONTMS_API_URL: must be https:// when a token is sent and APP_ENV=prod",
  ]);
  expect(problemsOf({ ...PROD, CONTMS_API_URL: "https://contms.example", CONTMS_API_TOKEN: token })).toEqual([]);
});

test("credentials get a key of their own; TOTP secrets keep theirs", () => {
  const secret = fresh();
  const config = loadConfig({ TOTP_ENCODE_SECRET: secret });
  const credentials = credentialsBox(config);
  const totp = makeSecretBox(secret);
  expect(totp.open(makeSecretBox(secret, "totp-secret-encryption").seal("same key"))).toBe("same key");
  expect(credentials.open(credentials.seal("hello"))).toBe("hello");
  expect(() => totp.open(credentials.seal("hello"))).toThrow();
});
