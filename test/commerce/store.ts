/**
 * A store for the commerce tests: a Tessera server, a tenant with an admin, an API key and a store
 * bot made through GraphQL (as an admin would), and `bot()` — supertest with the bot's headers.
 */
import request from "supertest";
import type { TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestTenant, type TestUser } from "../helpers/fixtures.ts";

/** Sets a bot's status ($id, $status: active or disabled). */
export const SET_BOT_STATUS = `mutation($id: UUID!, $status: String!) {
  updateBot(input: { rowId: $id, patch: { status: $status } }) { bot { status } }
}`;

export interface TestStore {
  tenant: TestTenant;
  admin: TestUser;
  apiKey: string;
  botId: string;
}

/** Runs a GraphQL document as `token` and returns its data, failing on any error. */
// biome-ignore lint/suspicious/noExplicitAny: tests read GraphQL answers by path; the schema checks them
export async function gql<T = Record<string, any>>(
  app: TestApp,
  token: string,
  query: string,
  variables?: Record<string, unknown>,
): Promise<T> {
  const { body } = await app.graphql(query, variables, token);
  if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data as T;
}

/** The error codes of a GraphQL answer, in order (empty when it has none). */
export const errorCodes = (body: { errors?: Array<{ extensions?: { code?: string } }> }) =>
  (body.errors ?? []).map((error) => error.extensions?.code);

export async function createApiKey(app: TestApp, admin: TestUser, name = "test key"): Promise<string> {
  const data = await gql(
    app,
    admin.token,
    "mutation($name: String!) { createApiKey(input: { name: $name }) { created { secret apiKey { rowId } } } }",
    { name },
  );
  return data.createApiKey.created.secret;
}

export async function createStoreBot(app: TestApp, admin: TestUser, referralPercent = "10"): Promise<string> {
  const data = await gql(
    app,
    admin.token,
    `mutation($p: BigFloat) { createBot(input: { name: "Store bot", referralPercent: $p }) { bot { rowId } } }`,
    { p: referralPercent },
  );
  return data.createBot.bot.rowId;
}

export async function createStore(app: TestApp, slug?: string): Promise<TestStore> {
  const tenant = await createTenant(app.db.ownerPool, slug);
  const admin = await createUser(app.db.ownerPool, tenant, "admin");
  const apiKey = await createApiKey(app, admin);
  const botId = await createStoreBot(app, admin);
  return { tenant, admin, apiKey, botId };
}

export async function createProduct(
  app: TestApp,
  admin: TestUser,
  product: { name: string; price: string; stock?: number | null; categoryId?: string; kind?: string },
): Promise<string> {
  const data = await gql(
    app,
    admin.token,
    `mutation($product: ProductInput!) { createProduct(input: { product: $product }) { product { rowId } } }`,
    { product: { stock: null, ...product } },
  );
  return data.createProduct.product.rowId;
}

export async function fundCustomer(app: TestApp, admin: TestUser, customerId: string, amount: string): Promise<void> {
  await gql(
    app,
    admin.token,
    `mutation($c: UUID!, $a: BigFloat!) {
       adjustCustomerBalance(input: { customerId: $c, amount: $a, reason: "top-up" }) { transaction { rowId } }
     }`,
    { c: customerId, a: amount },
  );
}

/** supertest against the app with the store's key and bot id (or the ones given). */
export function bot(app: TestApp, store: { apiKey?: string; botId?: string }) {
  const headers: Record<string, string> = {};
  if (store.apiKey !== undefined) headers["X-API-KEY"] = store.apiKey;
  if (store.botId !== undefined) headers["X-BOT-ID"] = store.botId;
  const agent = request(app.url);
  return {
    get: (path: string) => agent.get(path).set(headers),
    post: (path: string, body?: object) => agent.post(path).set(headers).send(body),
  };
}
