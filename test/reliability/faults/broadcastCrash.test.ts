/**
 * A worker process (`npm run worker`) killed with SIGKILL in the middle of a 2,000-customer
 * broadcast: once its heartbeat is stale (WORKER_STALE_SECONDS=4) a second worker runs the batches
 * it held, and every customer got the message exactly once, as the fake Telegram counts by chat.
 *
 * The kill lands at the worst moment that can be made deterministic: the fake holds back its
 * answers once 600 messages are delivered, so the bot's delivery job (its jobs run one at a time)
 * is blocked in a call whose message Telegram has already taken, and every message answered before
 * is recorded `sent`. That delivery is left `sending`; the next run never sends it again (failed,
 * INTERRUPTED), which is what keeps every chat at one message (docs/broadcasts.md).
 */
import { startTestApp, type TestApp } from "../../helpers/app.ts";
import { startFakeTelegram, type FakeTelegram } from "../../helpers/telegramServer.ts";
import { until } from "../../helpers/wait.ts";
import { startWorkerProcess, type WorkerProcess } from "../../helpers/workerProcess.ts";
import {
  addCustomers,
  broadcastRow,
  createBroadcast,
  createBroadcastStore,
  newBotToken,
  telegramIds,
} from "../../broadcasts/helpers.ts";

let app: TestApp;
let telegram: FakeTelegram;
const botToken = newBotToken();

beforeAll(async () => {
  telegram = await startFakeTelegram(botToken);
  app = await startTestApp({ env: { TELEGRAM_API_URL: telegram.url } });
});
afterAll(async () => {
  await app.stop();
  await telegram.close();
});

async function deliveriesByStatus(broadcastId: string): Promise<Record<string, number>> {
  const { rows } = await app.db.ownerPool.query<{ status: string; n: number }>(
    "select status, count(*)::int as n from app_public.broadcast_deliveries where broadcast_id = $1 group by status",
    [broadcastId],
  );
  return Object.fromEntries(rows.map((row) => [row.status, row.n]));
}

test("SIGKILL mid-broadcast: after a restart every customer has the message exactly once", async () => {
  const store = await createBroadcastStore(app, botToken);
  const chats = telegramIds(2000);
  await addCustomers(app.db.ownerPool, store.tenant.id, chats);
  const env = {
    TELEGRAM_API_URL: telegram.url,
    BROADCASTS_MESSAGES_PER_SECOND: "0",
    BROADCASTS_REQUEST_TIMEOUT_MS: "120000",
    WORKER_CONCURRENCY: "2",
    WORKER_HEARTBEAT_SECONDS: "1",
    WORKER_STALE_SECONDS: "4",
  };
  telegram.holdAfter(600);
  const id = await createBroadcast(app, store.admin.token, { botId: store.botId, text: "Everyone, once" });

  const first = await startWorkerProcess(app.db, env);
  let second: WorkerProcess | undefined;
  try {
    await until(
      async () => {
        if (telegram.held < 1) return false;
        const statuses = await deliveriesByStatus(id);
        return statuses.sending === telegram.held && (statuses.sent ?? 0) === telegram.answered;
      },
      "the bot's delivery job blocked in a held call, every answered message recorded",
      60_000,
    );
    expect(telegram.messages.length).toBeLessThan(chats.length);
    first.child.kill("SIGKILL");
    await first.exited;
    telegram.recover();

    second = await startWorkerProcess(app.db, env);
    await until(
      async () => (await broadcastRow(app.db.ownerPool, id)).status === "completed",
      "the broadcast to complete",
      90_000,
    );

    const counts = telegram.countsByChat();
    expect(chats.filter((chat) => counts.get(String(chat)) !== 1)).toEqual([]);
    expect(telegram.messages).toHaveLength(chats.length);
    // The call the kill interrupted reached Telegram, but nobody learnt it: not sent again.
    expect(await deliveriesByStatus(id)).toEqual({ sent: chats.length - 1, failed: 1 });
    expect(await broadcastRow(app.db.ownerPool, id)).toEqual({
      status: "completed",
      total_count: 2000,
      pending_count: 0,
      sent_count: 1999,
      failed_count: 1,
      blocked_count: 0,
    });
    const { rows } = await app.db.ownerPool.query(
      "select last_error from app_public.broadcast_deliveries where broadcast_id = $1 and status = 'failed'",
      [id],
    );
    for (const row of rows) expect(row.last_error).toMatch(/^INTERRUPTED/);
  } finally {
    if (first.child.exitCode === null && first.child.signalCode === null) first.child.kill("SIGKILL");
    if (second) expect(await second.stop()).toBe(0);
  }
}, 180_000);
