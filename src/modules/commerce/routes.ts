/**
 * The bot API's handlers: each authenticates nothing itself (botAuthentication ran before it), runs
 * its SQL as the bot in one transaction and answers the shape its spec declares.
 */
import type { Implementation } from "../../platform/http/routeSpec.ts";
import { implement } from "../../platform/http/routeTable.ts";
import * as api from "./api.ts";
import { botOf, type BotRunner } from "./botAuth.ts";
import { categoryTree, productPage } from "./catalog.ts";
import { balanceOf, createBot, findCustomer, referralAnalytics, upsertCustomer } from "./customers.ts";
import { createOrder, customerOrderPage, findOrder } from "./orders.ts";

export function botImplementations(asBot: BotRunner): Implementation[] {
  return [
    implement(api.upsertCustomer, async ({ body, req }) => {
      const { created, customer } = await asBot(botOf(req), (db) => upsertCustomer(db, body));
      return created ? { status: 201, body: customer } : { status: 200, body: customer };
    }),
    implement(api.getCustomer, async ({ params, req }) => ({
      status: 200,
      body: await asBot(botOf(req), (db) => findCustomer(db, params.telegramId)),
    })),
    implement(api.getBalance, async ({ params, query, req }) => ({
      status: 200,
      body: await asBot(botOf(req), (db) => balanceOf(db, params.telegramId, query.currency)),
    })),
    implement(api.listCustomerOrders, async ({ params, query, req }) => ({
      status: 200,
      body: await asBot(botOf(req), (db) => customerOrderPage(db, params.telegramId, query)),
    })),
    implement(api.getReferralAnalytics, async ({ params, req }) => ({
      status: 200,
      body: await asBot(botOf(req), (db) => referralAnalytics(db, params.telegramId)),
    })),
    implement(api.createBot, async ({ body, req }) => ({
      status: 201,
      body: await asBot(botOf(req), (db) => createBot(db, body)),
    })),
    implement(api.listCategories, async ({ req }) => ({
      status: 200,
      body: { categories: await asBot(botOf(req), categoryTree) },
    })),
    implement(api.listProducts, async ({ query, req }) => ({
      status: 200,
      body: await asBot(botOf(req), (db) => productPage(db, query)),
    })),
    implement(api.createOrder, async ({ body, req }) => ({
      status: 201,
      body: await asBot(botOf(req), (db) => createOrder(db, body)),
    })),
    implement(api.getOrder, async ({ params, req }) => ({
      status: 200,
      body: await asBot(botOf(req), (db) => findOrder(db, params.id)),
    })),
  ];
}
