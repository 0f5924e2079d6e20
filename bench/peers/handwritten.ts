/**
 * The hand-written peer of `npm run bench:peers`: node:http + pg, no framework, answering each path
 * with the statements Tessera runs for it and the same JSON. A member request verifies the access
 * token, checks its session (app_hidden.session_claims) and runs as the visitor role with the
 * session's claims; a bot request authenticates its key and bot (authenticate_bot_request, as the
 * owner) and runs as the bot role with the bot claims — each in one transaction, with the
 * statement timeout Tessera sets. The statements go out in the messages Tessera sends them in, by
 * Tessera's own code used without the rest of the server: for a member the session check
 * (src/platform/auth/sessionCheck.ts), then `begin` + claims, the query and `commit` in one write
 * (src/platform/graphql/requestTransactions.ts); for a bot (botRunner) `begin` + claims, the query,
 * `commit`.
 * Own process; PEERS_SETUP in, `{"port":N}` out.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { botRunner } from "../../src/modules/commerce/botAuth.ts";
import { productPage } from "../../src/modules/commerce/catalog.ts";
import { sha256 } from "../../src/platform/auth/secrets.ts";
import { makeSessionCheck } from "../../src/platform/auth/sessionCheck.ts";
import { claimsFromAuthorization } from "../../src/platform/auth/tokens.ts";
import { pgSettingsFor } from "../../src/platform/graphql/context.ts";
import { RequestTransactions } from "../../src/platform/graphql/requestTransactions.ts";
import { type BenchClient, benchPool, EVENTS_LIST_SQL } from "../queries.ts";
import { CURRENT_USER_SQL, JOIN_SQL } from "./paths.ts";
import { readSetup } from "./setup.ts";

const { urls, jwtSecret, statementTimeoutMs, botRequestsPerMinute } = readSetup();
// The pool sizes Tessera uses (src/platform/server.ts).
const requestPool = benchPool(urls.authenticatorUrl, 12);
const ownerPool = benchPool(urls.ownerUrl, 10);
const transactions = new RequestTransactions(requestPool);
const checkSession = makeSessionCheck(requestPool);
const botTransaction = botRunner(requestPool, urls.botRole, statementTimeoutMs);
const NO_BOT = "00000000-0000-0000-0000-000000000000";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function asMember<T>(req: IncomingMessage, work: (client: BenchClient) => Promise<T>): Promise<T> {
  const presented = claimsFromAuthorization(req.headers.authorization, jwtSecret);
  if (!presented) throw new Error("Send a bearer token.");
  const claims = await checkSession(presented);
  const settings = pgSettingsFor(claims, urls.visitorRole, undefined, statementTimeoutMs);
  return transactions.withPgClient(settings, (client) => work(client.rawClient));
}

/** A bot request: its key and bot checked as Tessera checks them, then Tessera's own bot transaction. */
async function asBot<T>(req: IncomingMessage, work: (client: BenchClient) => Promise<T>): Promise<T> {
  const key = String(req.headers["x-api-key"] ?? "");
  const botId = String(req.headers["x-bot-id"] ?? "");
  // Prepared, as Tessera's check is.
  const { rows } = await ownerPool.query<{ tenant_id: string; api_key_id: string; retry_after: number | null }>({
    name: "handwritten_authenticate_bot",
    text:
      "select tenant_id, api_key_id, retry_after " +
      "from app_private.authenticate_bot_request($1, null, $2, $3, 60, null)",
    values: [sha256(key), UUID.test(botId) ? botId : NO_BOT, botRequestsPerMinute],
  });
  if (rows[0]!.retry_after !== null) throw new Error("rate limited");
  return botTransaction({ tenantId: rows[0]!.tenant_id, botId, apiKeyId: rows[0]!.api_key_id }, work);
}

async function bodyOf(req: IncomingMessage): Promise<{ variables?: Record<string, string> }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : {};
}

async function answer(req: IncomingMessage): Promise<unknown> {
  const body = await bodyOf(req);
  switch (req.url) {
    case "/events": {
      const nodes = await asMember(req, async (db) => (await db.query(EVENTS_LIST_SQL)).rows);
      return { data: { searchEvents: { nodes } } };
    }
    case "/me": {
      const user = await asMember(req, async (db) => (await db.query(CURRENT_USER_SQL)).rows[0] ?? null);
      return { data: { currentUser: user } };
    }
    case "/join": {
      const participant = await asMember(req, async (db) => (await db.query(JOIN_SQL, [body.variables?.eventId])).rows);
      return { data: { joinEvent: { participant: participant[0] ?? null } } };
    }
    case "/api/bot/catalog/products":
      return asBot(req, (db) =>
        productPage(db, { limit: 20, sort: [{ field: "createdAt", direction: "asc" }], cursor: null, filter: {} }),
      );
    default:
      return undefined;
  }
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  res.setHeader("content-type", "application/json");
  try {
    const body = await answer(req);
    if (body === undefined) res.statusCode = 404;
    res.end(JSON.stringify(body ?? { error: "not found" }));
  } catch (error) {
    res.end(JSON.stringify({ errors: [{ message: (error as Error).message }] }));
  }
}

const server = createServer((req, res) => void handle(req, res));
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === "object" ? address?.port : undefined })}\n`);
});
process.on("SIGTERM", () => {
  server.close();
  Promise.all([requestPool.end(), ownerPool.end()]).finally(() => process.exit(0));
});
