/**
 * A store that takes payments, for the payments tests: a Tessera server whose mock provider (a real
 * HTTP server) posts its webhooks back to it, a tenant with an admin, an API key and a bot, and the
 * module's worker tasks as graphile-worker runs them.
 */
import type { JobHelpers, TaskList } from "graphile-worker";
import { DEV_PAYMENT_WEBHOOK_SECRET, type PaymentsConfig } from "../../src/modules/payments/config.ts";
import { paymentTasks } from "../../src/modules/payments/index.ts";
import {
  type MockPaymentsProvider,
  startMockPaymentsProvider,
} from "../../src/modules/payments/providers/mockServer.ts";
import type { TaskContext } from "../../src/platform/modules.ts";
import { bot, createStore, type TestStore } from "../commerce/store.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";

export interface Shop {
  app: TestApp;
  mock: MockPaymentsProvider;
  store: TestStore;
  api: ReturnType<typeof bot>;
  stop(): Promise<void>;
}

export async function startShop(env: Record<string, string> = {}): Promise<Shop> {
  const mock = await startMockPaymentsProvider({ webhookSecret: DEV_PAYMENT_WEBHOOK_SECRET });
  const app = await startTestApp({ env: { MOCK_PAYMENTS_PROVIDER_URL: mock.url, ...env } });
  mock.setWebhookUrl(`${app.url}/api/webhook/payments/mock`);
  const store = await createStore(app);
  return {
    app,
    mock,
    store,
    api: bot(app, store),
    async stop() {
      await app.stop();
      await mock.close();
    },
  };
}

/** The payments tasks with these settings, wrapped as the worker runs them (payload parsed first). */
export function paymentsTaskList(settings: PaymentsConfig, context: TaskContext = {}): TaskList {
  return Object.fromEntries(
    Object.entries(paymentTasks(settings)).map(([name, task]) => [
      name,
      (payload: unknown, helpers: JobHelpers) => task.run(task.payload.parse(payload) as never, helpers, context),
    ]),
  );
}
