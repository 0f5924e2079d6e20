/**
 * Who may call /api/bot/*: a live key of the tenant (or the static service key) with a bot of that
 * same tenant. Everything else is refused before any data is read: 401 for the key, 403 for the bot.
 */
import { randomUUID } from "node:crypto";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { holdRaw, sendRaw } from "../helpers/rawHttp.ts";
import { until } from "../helpers/wait.ts";
import { createTenant, SET_TENANT_MODULE } from "../helpers/fixtures.ts";
import { setBotRateLimitClock } from "../../src/modules/commerce/botAuth.ts";
import { bot, createApiKey, createStore, gql, SET_BOT_STATUS, type TestStore } from "./store.ts";

const SERVICE_API_KEY = "tsk_service_key_for_the_tests_0123456789abcdef";
let app: TestApp;
let storeA: TestStore;
let storeB: TestStore;

beforeAll(async () => {
  app = await startTestApp({ env: { SERVICE_API_KEY, SERVICE_API_TENANT: "service-store" } });
  storeA = await createStore(app);
  storeB = await createStore(app);
  await bot(app, storeB).post("/api/bot/customers", { telegramId: 777 });
});
afterAll(() => app.stop());

const expectRefused = (answer: { status: number; body: unknown }, status: number, code: string) => {
  expect(answer.status).toBe(status);
  expect(answer.body).toEqual({ error: expect.objectContaining({ code }) });
};

test("no key, an unknown key or no bot id: 401 UNAUTHENTICATED", async () => {
  expectRefused(await bot(app, { botId: storeA.botId }).get("/api/bot/catalog/products"), 401, "UNAUTHENTICATED");
  expectRefused(
    await bot(app, { apiKey: "tsk_not-a-key", botId: storeA.botId }).get("/api/bot/catalog/products"),
    401,
    "UNAUTHENTICATED",
  );
  expectRefused(await bot(app, { apiKey: storeA.apiKey }).get("/api/bot/catalog/products"), 401, "UNAUTHENTICATED");
});

test("a key of tenant A with a bot of tenant B, an unknown bot or a malformed id: 403 FORBIDDEN, no data", async () => {
  for (const botId of [storeB.botId, randomUUID(), "not-a-uuid", "' or 1=1 --"]) {
    expectRefused(await bot(app, { apiKey: storeA.apiKey, botId }).get("/api/bot/customers/777"), 403, "FORBIDDEN");
  }
  // With tenant B's own key the customer is there: the refusal above was not a 404 in disguise.
  expect((await bot(app, storeB).get("/api/bot/customers/777")).status).toBe(200);
  // Tenant A's bot does not see tenant B's customer either.
  expectRefused(await bot(app, storeA).get("/api/bot/customers/777"), 404, "NOT_FOUND");
});

test("a disabled bot is refused as one: 403, its message naming an active bot", async () => {
  const store = await createStore(app);
  await gql(app, store.admin.token, SET_BOT_STATUS, { id: store.botId, status: "disabled" });
  const answer = await bot(app, store).get("/api/bot/catalog/categories");
  expect([answer.status, answer.body.error.code, answer.body.error.message]).toEqual([
    403,
    "FORBIDDEN",
    "The bot is not an active bot of this key's tenant",
  ]);
});

test("a revoked key is refused from then on; a used key shows when it was last used", async () => {
  const key = await createApiKey(app, storeA.admin, "to revoke");
  expect((await bot(app, { apiKey: key, botId: storeA.botId }).get("/api/bot/catalog/categories")).status).toBe(200);
  const listed = await gql(app, storeA.admin.token, "{ apiKeys { nodes { rowId name lastUsedAt revokedAt } } }");
  const row = listed.apiKeys.nodes.find((node: { name: string }) => node.name === "to revoke");
  expect(row.lastUsedAt).toEqual(expect.any(String));
  await gql(
    app,
    storeA.admin.token,
    "mutation($id: UUID!) { revokeApiKey(input: { id: $id }) { apiKey { revokedAt } } }",
    {
      id: row.rowId,
    },
  );
  expectRefused(
    await bot(app, { apiKey: key, botId: storeA.botId }).get("/api/bot/catalog/categories"),
    401,
    "UNAUTHENTICATED",
  );
});

test("a key revoked, a bot disabled or commerce off while a request's body is on its way: refused", async () => {
  // Fails on the code before the fix: the key, the bot and the module were checked once, before the
  // body was read, and the request wrote whatever changed while the client took its time.
  const store = await createStore(app);
  const keyRow = async (key: string) =>
    (
      await app.db.ownerPool.query(
        "select k.id, k.last_used_at from app_public.api_keys k join app_private.api_key_secrets s " +
          "on s.api_key_id = k.id where s.secret_hash = sha256(convert_to($1, 'UTF8'))",
        [key],
      )
    ).rows[0];
  const changes: Array<[string, number, (keyId: string) => Promise<unknown>, () => Promise<unknown>]> = [
    [
      "key revoked",
      401,
      (keyId) =>
        gql(app, store.admin.token, "mutation($id: UUID!) { revokeApiKey(input: { id: $id }) { clientMutationId } }", {
          id: keyId,
        }),
      async () => undefined,
    ],
    [
      "bot disabled",
      403,
      () => gql(app, store.admin.token, SET_BOT_STATUS, { id: store.botId, status: "disabled" }),
      () => gql(app, store.admin.token, SET_BOT_STATUS, { id: store.botId, status: "active" }),
    ],
    [
      "commerce off",
      403,
      () => gql(app, store.admin.token, SET_TENANT_MODULE, { module: "commerce", enabled: false }),
      () => gql(app, store.admin.token, SET_TENANT_MODULE, { module: "commerce", enabled: true }),
    ],
  ];
  for (const [what, status, change, undo] of changes) {
    const key = await createApiKey(app, store.admin, what);
    const telegramId = 9_100 + changes.findIndex((entry) => entry[0] === what);
    const body = JSON.stringify({ telegramId });
    const held = holdRaw(
      app.url,
      "POST /api/bot/customers HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n" +
        `X-API-KEY: ${key}\r\nX-BOT-ID: ${store.botId}\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    // The head is checked (the key is marked used) before the body is read.
    await until(async () => (await keyRow(key))?.last_used_at != null, `${what}: the head to be checked`);
    await change((await keyRow(key)).id);
    const answer = await held.finish(body);
    expect([what, answer.split("\r\n")[0]]).toEqual([what, expect.stringContaining(` ${status} `)]);
    const { rows } = await app.db.ownerPool.query(
      "select 1 from app_public.customers where tenant_id = $1 and telegram_id = $2",
      [store.tenant.id, telegramId],
    );
    expect([what, rows]).toEqual([what, []]);
    await undo();
  }
});

test("the static SERVICE_API_KEY is a key of SERVICE_API_TENANT", async () => {
  const tenant = await createTenant(app.db.ownerPool, "service-store");
  const { rows } = await app.db.ownerPool.query<{ id: string }>(
    "insert into app_public.bots (tenant_id, name) values ($1, 'Service bot') returning id",
    [tenant.id],
  );
  const serviceBot = { apiKey: SERVICE_API_KEY, botId: rows[0]!.id };
  expect((await bot(app, serviceBot).post("/api/bot/customers", { telegramId: 1 })).status).toBe(201);
  // ...and of no other tenant.
  expectRefused(
    await bot(app, { apiKey: SERVICE_API_KEY, botId: storeA.botId }).get("/api/bot/customers/1"),
    403,
    "FORBIDDEN",
  );
});

test("a tenant that switched the commerce module off: its keys are refused with 403", async () => {
  const store = await createStore(app);
  await gql(
    app,
    store.admin.token,
    `mutation { setTenantModule(input: { module: "commerce", enabled: false }) { clientMutationId } }`,
  );
  expectRefused(await bot(app, store).get("/api/bot/catalog/categories"), 403, "FORBIDDEN");
});

test("keys are rate-limited per key: of 12 parallel requests with a limit of 5, 5 pass and 7 get 429", async () => {
  const limited = await startTestApp({ env: { BOT_API_RATE_LIMIT: "5" } });
  // One window for the whole burst, wherever the wall clock is in its minute.
  const windowStart = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 10 * 60_000);
  setBotRateLimitClock(() => windowStart);
  try {
    const store = await createStore(limited);
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => bot(limited, store).get("/api/bot/catalog/categories")),
    );
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(5);
    const refused = answers.filter((answer) => answer.status !== 200);
    expect(refused).toHaveLength(7);
    for (const answer of refused) {
      expectRefused(answer, 429, "RATE_LIMITED");
      expect(Number(answer.headers["retry-after"])).toBeGreaterThan(0);
    }
    // Another key of the same tenant has its own budget.
    const other = await createApiKey(limited, store.admin, "second");
    expect((await bot(limited, { apiKey: other, botId: store.botId }).get("/api/bot/catalog/categories")).status).toBe(
      200,
    );
  } finally {
    setBotRateLimitClock(undefined);
    await limited.stop();
  }
});

test("a POST with no body, or an empty one, is no body of any type: its fields are missing, not 415", async () => {
  // Fails on the code before the fix: with a declared type and no Content-Length (curl -X POST
  // -H 'content-type: application/json'), or with Content-Length: 0 and no type, it was 415.
  const send = async (headers: string, body = "") => {
    const answer = await sendRaw(
      app.url,
      `POST /api/bot/customers HTTP/1.1\r\nHost: x\r\nX-API-KEY: ${storeA.apiKey}\r\n` +
        `X-BOT-ID: ${storeA.botId}\r\n${headers}Connection: close\r\n\r\n${body}`,
    );
    const [head, ...rest] = answer.split("\r\n\r\n");
    return { status: Number(head!.split(" ")[1]), body: JSON.parse(rest.join("\r\n\r\n")) };
  };
  const missing = {
    error: expect.objectContaining({ code: "VALIDATION_FAILED", details: { fields: expect.any(Object) } }),
  };
  for (const headers of ["Content-Type: application/json\r\n", "Content-Length: 0\r\n", ""]) {
    expect([headers, await send(headers)]).toEqual([headers, { status: 400, body: missing }]);
  }
  expect(await send("Content-Type: text/plain\r\nContent-Length: 2\r\n", "hi")).toEqual({
    status: 415,
    body: { error: expect.objectContaining({ code: "UNSUPPORTED_MEDIA_TYPE" }) },
  });
});
