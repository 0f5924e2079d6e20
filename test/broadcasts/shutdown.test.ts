/**
 * A worker stopped while a broadcast's batch waits out Telegram's 429: the wait ends with the stop
 * (graphile-worker aborts its jobs' signal 5 s after a graceful stop begins), nothing is sent
 * meanwhile, and the rest of the batch goes to a new job of the same key on the bot's queue, which
 * the next worker runs at once, the stopped run's attempt not counted.
 */
import type { TaskList } from "graphile-worker";
import { MODULES } from "../../src/modules/index.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { startWorker } from "../../src/platform/worker/runner.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { startFakeTelegram, type FakeTelegram } from "../helpers/telegramServer.ts";
import { until } from "../helpers/wait.ts";
import {
  addCustomers,
  broadcastRow,
  broadcastTasks,
  type BroadcastStore,
  createBroadcast,
  createBroadcastStore,
  newBotToken,
  runBroadcastJobs,
  telegramIds,
} from "./helpers.ts";

let app: TestApp;
let telegram: FakeTelegram;
let store: BroadcastStore;
let tasks: TaskList;
const botToken = newBotToken();

beforeAll(async () => {
  telegram = await startFakeTelegram(botToken);
  app = await startTestApp({ env: { TELEGRAM_API_URL: telegram.url, BROADCASTS_MESSAGES_PER_SECOND: "0" } });
  tasks = broadcastTasks(app);
  store = await createBroadcastStore(app, botToken);
});
afterAll(async () => {
  await app.stop();
  await telegram.close();
});

test("a worker stopped during a 429's wait stops without sending; the next worker sends the batch once", async () => {
  // Fails on the code before: the stop waited out the 600 s (the test's time ran out first).
  const ids = telegramIds(3);
  await addCustomers(app.db.ownerPool, store.tenant.id, ids);
  telegram.tooManyRequests(1, 600);
  const worker = await startWorker({
    modules: MODULES,
    connectionString: app.db.urls.ownerUrl,
    concurrency: 2,
    logger: createLogger("silent"),
    mail: app.config.mail,
    config: app.config,
  });
  const id = await createBroadcast(app, store.admin.token, { botId: store.botId, text: "Olá" });
  const waiting = async () =>
    (
      await app.db.ownerPool.query(
        `select 1 from app_public.broadcast_deliveries
         where broadcast_id = $1 and last_error = '429 retry after 600 s'`,
        [id],
      )
    ).rowCount === 1;
  await until(waiting, "the first delivery to wait out Telegram's 429");
  await worker.stop();

  expect(telegram.messages).toEqual([]);
  const { rows: deliveries } = await app.db.ownerPool.query(
    "select status from app_public.broadcast_deliveries where broadcast_id = $1",
    [id],
  );
  expect(deliveries).toEqual([{ status: "pending" }, { status: "pending" }, { status: "pending" }]);
  const { rows: jobs } = await app.db.ownerPool.query(
    `select j.attempts, j.max_attempts, j.locked_by, q.queue_name
     from graphile_worker._private_jobs j left join graphile_worker._private_job_queues q on q.id = j.job_queue_id
     where j.key = $1`,
    [`broadcast_deliver:${id}:0`],
  );
  expect(jobs).toEqual([
    { attempts: 0, max_attempts: 10, locked_by: null, queue_name: `broadcasts_bot_${store.botId}` },
  ]);

  await runBroadcastJobs(app, tasks);
  expect(telegram.messages.map((message) => message.chatId).sort()).toEqual(ids.map(String).sort());
  expect(await broadcastRow(app.db.ownerPool, id)).toMatchObject({ status: "completed", sent_count: 3 });
});
