/** The payments handlers: bot routes run as the bot (botAuthentication ran first); webhooks are public but signed. */
import { AppError } from "../../platform/errors.ts";
import type { Implementation } from "../../platform/http/routeSpec.ts";
import { implement } from "../../platform/http/routeTable.ts";
import { botOf, type BotRunner } from "../commerce/botAuth.ts";
import { payOrder } from "../commerce/orders.ts";
import * as api from "./api.ts";
import { eventsAfter, setWebhook } from "./botEvents.ts";
import { findPayment, type PaymentStarter } from "./payments.ts";
import type { webhookReceiver } from "./webhook.ts";

export function paymentImplementations(
  asBot: BotRunner,
  payments: PaymentStarter,
  receive: ReturnType<typeof webhookReceiver>,
  serverKey: Buffer,
  urlProblem: (url: string) => Promise<string | null>,
): Implementation[] {
  return [
    implement(api.payOrder, async ({ params, body, req }) => {
      if (body.method === "balance")
        return { status: 200, body: await asBot(botOf(req), (db) => payOrder(db, params.id)) };
      const payment = await payments.start(botOf(req), { orderId: params.id });
      return { status: 201, body: { payment } };
    }),
    implement(api.createDeposit, async ({ body, req }) => {
      const payment = await payments.start(botOf(req), { telegramId: body.telegramId, amount: body.amount });
      return { status: 201, body: { payment } };
    }),
    implement(api.getPayment, async ({ params, req }) => ({
      status: 200,
      body: { payment: await asBot(botOf(req), (db) => findPayment(db, params.id)) },
    })),
    implement(api.listBotEvents, async ({ query, req }) => ({
      status: 200,
      body: await asBot(botOf(req), (db) => eventsAfter(db, query.cursor, query.limit)),
    })),
    implement(api.setBotWebhook, async ({ body, req }) => {
      const problem = body.url === null ? null : await urlProblem(body.url);
      if (problem) throw new AppError("VALIDATION_FAILED", "This URL cannot receive events.", { details: { problem } });
      return { status: 200, body: await asBot(botOf(req), (db) => setWebhook(db, body.url, serverKey)) };
    }),
    implement(api.receivePaymentWebhook, async ({ params, req }) => ({
      status: 200,
      body: { outcome: await receive(params.provider, req) },
    })),
  ];
}
