/** Commerce's variables: the static service key's defaults, and what stage and prod refuse. */
import { commerceConfig, DEV_SERVICE_API_KEY } from "../../src/modules/commerce/config.ts";
import { loadConfig } from "../../src/modules/index.ts";
import { freshSecret as fresh, hardenedEnv, problemsOf } from "../helpers/config.ts";

const PROD = hardenedEnv();

test("outside stage and prod the demo tenant answers to the development key", () => {
  expect(commerceConfig.of(loadConfig({})).serviceKey).toEqual({ key: DEV_SERVICE_API_KEY, tenantSlug: "demo" });
  const mine = fresh();
  const config = loadConfig({ SERVICE_API_KEY: mine, SERVICE_API_TENANT: "acme" });
  expect(commerceConfig.of(config).serviceKey).toEqual({ key: mine, tenantSlug: "acme" });
});

test("in prod there is no static key unless one is set, with its tenant, and never a published one", () => {
  expect(problemsOf(PROD)).toEqual([]);
  expect(commerceConfig.of(loadConfig(PROD)).serviceKey).toBeUndefined();
  const key = fresh();
  expect(problemsOf({ ...PROD, SERVICE_API_KEY: key })).toEqual([
    "SERVICE_API_TENANT: is required with SERVICE_API_KEY when APP_ENV=prod",
  ]);
  expect(
    commerceConfig.of(loadConfig({ ...PROD, SERVICE_API_KEY: key, SERVICE_API_TENANT: "acme" })).serviceKey,
  ).toEqual({ key, tenantSlug: "acme" });
  expect(problemsOf({ ...PROD, SERVICE_API_KEY: DEV_SERVICE_API_KEY, SERVICE_API_TENANT: "acme" })).toEqual([
    expect.stringMatching(/^SERVICE_API_KEY: the development default is refused/),
  ]);
  expect(problemsOf({ ...PROD, SERVICE_API_KEY: fresh().slice(0, 20), SERVICE_API_TENANT: "acme" })).toEqual([
    expect.stringMatching(/^SERVICE_API_KEY: must be at least 32 characters/),
  ]);
  expect(problemsOf({ ...PROD, BOT_API_RATE_LIMIT: "0" })).toEqual([expect.stringMatching(/^BOT_API_RATE_LIMIT: /)]);
});
