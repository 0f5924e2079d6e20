/**
 * In stage and prod a bot's webhook URL may not point into the server's own network: setting one
 * is refused, and a URL that came to resolve to a private address is not called (the attempt is
 * logged, the job does not retry).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { paymentsConfig } from "../../src/modules/payments/config.ts";
import type { Config } from "../../src/platform/config.ts";
import { isPrivateAddress, privateTargetProblem } from "../../src/platform/http/publicAddress.ts";
import { bot, createStore } from "../commerce/store.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { runDueJobs } from "../helpers/jobs.ts";
import { paymentsTaskList } from "./shop.ts";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ production: true });
});
afterAll(() => app.stop());

test("addresses of the server's own networks are private, public ones are not", () => {
  for (const address of [
    "127.0.0.1",
    "10.1.2.3",
    "172.20.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "::1",
    "fd00::1",
    "::ffff:10.0.0.1",
    // The same IPv4-mapped addresses in other spellings.
    "::ffff:a00:1",
    "0:0:0:0:0:FFFF:7f00:1",
  ])
    expect([address, isPrivateAddress(address)]).toEqual([address, true]);
  for (const address of ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
    expect([address, isPrivateAddress(address)]).toEqual([address, false]);
});

test("a name that resolves inside reads as one that does not resolve: the server's network is not mapped", async () => {
  // Fails on the code before: "localhost resolves to a private address (127.0.0.1)", and the
  // resolver's own error for a name it does not know.
  expect(await privateTargetProblem("https://localhost/hook")).toBe(
    "localhost does not resolve to public addresses only",
  );
  expect(await privateTargetProblem("https://no-such-host.invalid/hook")).toBe(
    "no-such-host.invalid does not resolve to public addresses only",
  );
  expect(await privateTargetProblem("https://93.184.216.34/hook")).toBeNull();
});

test("a private webhook URL is refused when set, and not called when it is already set", async () => {
  const store = await createStore(app);
  const put = (url: string) =>
    fetch(`${app.url}/api/bot/webhook`, {
      method: "PUT",
      headers: { "content-type": "application/json", "x-api-key": store.apiKey, "x-bot-id": store.botId },
      body: JSON.stringify({ url }),
    });
  for (const url of ["http://127.0.0.1:9/hook", "http://169.254.169.254/latest/meta-data", "http://[::1]/x"]) {
    const answer = await put(url);
    expect([url, answer.status, ((await answer.json()) as { error: { code: string } }).error.code]).toEqual([
      url,
      400,
      "VALIDATION_FAILED",
    ]);
  }

  // A URL set earlier (or a name that now resolves inside): the push is refused, logged, not retried.
  let called = 0;
  const inside = createServer((_req, res) => {
    called++;
    res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => inside.listen(0, "127.0.0.1", resolve));
  try {
    const url = `http://127.0.0.1:${(inside.address() as AddressInfo).port}/hook`;
    await app.db.ownerPool.query("update app_public.bots set webhook_url = $1 where id = $2", [url, store.botId]);
    await bot(app, store).post("/api/bot/customers", { telegramId: 42 });
    const { rows } = await app.db.ownerPool.query<{ id: string }>(
      `select app_private.record_bot_event(tenant_id, id, 'payment.failed', '{}'::jsonb)::text as id
       from app_public.bots where id = $1`,
      [store.botId],
    );
    const settings = paymentsConfig.of(app.config);
    const production = { isProduction: true } as Config;
    const { push_bot_event } = paymentsTaskList(settings, { config: production });
    await runDueJobs(app.db.ownerPool, { push_bot_event: push_bot_event! });
    expect(called).toBe(0);
    const log = await app.db.ownerPool.query(
      "select delivered, error from app_private.bot_event_deliveries where event_id = $1",
      [rows[0]!.id],
    );
    expect(log.rows).toEqual([
      { delivered: false, error: `refused: 127.0.0.1 does not resolve to public addresses only` },
    ]);
    const left = await app.db.ownerPool.query(
      "select 1 from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id " +
        "where t.identifier = 'push_bot_event'",
    );
    expect(left.rows).toEqual([]);
  } finally {
    await new Promise((resolve) => inside.close(resolve));
  }
});
