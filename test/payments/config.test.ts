/** The payments variables a deployment is refused for. */
import { hardenedEnv, problemsOf } from "../helpers/config.ts";

test("the mock provider, where anyone may pay, is refused in production; development and staging take it", () => {
  // Fails on the code before the fix: production took it, and its poller settled what was pressed.
  const mock = { MOCK_PAYMENTS_PROVIDER_URL: "http://127.0.0.1:8091" };
  expect(problemsOf({ ...hardenedEnv("prod"), ...mock })).toEqual([
    "MOCK_PAYMENTS_PROVIDER_URL: the mock provider is refused with APP_ENV=prod (anyone may pay there)",
  ]);
  expect(problemsOf({ ...hardenedEnv("stage"), ...mock })).toEqual([]);
  expect(problemsOf(mock)).toEqual([]);
  expect(problemsOf(hardenedEnv("prod"))).toEqual([]);
});

test("PAYMENT_PROVIDER=mock, as .env.example has it, is refused in production; unset, it starts", () => {
  // Fails on the code before: production started, and every provider payment failed (502).
  expect(problemsOf({ ...hardenedEnv("prod"), PAYMENT_PROVIDER: "mock" })).toEqual([
    "PAYMENT_PROVIDER: mock is refused with APP_ENV=prod (set platform, or leave it unset: " +
      "payments from balances only)",
  ]);
  expect(problemsOf({ ...hardenedEnv("stage"), PAYMENT_PROVIDER: "mock" })).toEqual([]);
  expect(problemsOf({ PAYMENT_PROVIDER: "mock" })).toEqual([]);
});
