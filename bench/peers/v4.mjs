/**
 * PostGraphile V4 as a peer of Tessera for `npm run bench:peers`: the same database and schema, as
 * the same authenticator role, with a pgSettings callback that does what Tessera's request path
 * does — verify the access token (same secret, algorithm, audience and issuer), check its session
 * with app_hidden.session_claims and take the user, tenant and role from the database's answer —
 * and, for bot requests (X-API-KEY and X-BOT-ID), authenticate the key and bot with
 * app_private.authenticate_bot_request and run as the bot role with the bot claims.
 * Plain JavaScript with its own dependencies (bench/peers/package.json), in its own process.
 * Input: PEERS_SETUP (JSON: urls, jwtSecret, statementTimeoutMs, botRequestsPerMinute).
 * Output: one line `{"port":N}` on stdout once listening.
 */
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import jwt from "jsonwebtoken";
import pg from "pg";
import { postgraphile } from "postgraphile";
import graphileUtils from "graphile-utils";

const setup = JSON.parse(process.env.PEERS_SETUP ?? "{}");
const { urls, jwtSecret, statementTimeoutMs, botRequestsPerMinute } = setup;

// The pool sizes Tessera uses (src/platform/server.ts).
const requestPool = new pg.Pool({ connectionString: urls.authenticatorUrl, max: 12 });
const ownerPool = new pg.Pool({ connectionString: urls.ownerUrl, max: 10 });

class Refused extends Error {
  constructor(message) {
    super(message);
    this.statusCode = 401;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function memberSettings(header) {
  const match = /^Bearer ([A-Za-z0-9_\-.=]+)$/i.exec(header.trim());
  if (!match) throw new Refused("The Authorization header must be 'Bearer <token>'.");
  let claims;
  try {
    claims = jwt.verify(match[1], jwtSecret, { algorithms: ["HS256"], audience: "tessera", issuer: "tessera" });
  } catch {
    throw new Refused("The access token is not valid.");
  }
  if (!UUID.test(claims.sub) || !UUID.test(claims.tid) || !UUID.test(claims.sid) || typeof claims.exp !== "number") {
    throw new Refused("The access token is not valid.");
  }
  const { rows } = await requestPool.query("select * from app_hidden.session_claims($1::uuid[])", [[claims.sid]]);
  const session = rows[0];
  if (!session) throw new Refused("The session has ended; sign in again.");
  if (session.user_id !== claims.sub.toLowerCase() || session.tenant_id !== claims.tid.toLowerCase()) {
    throw new Refused("The access token is not valid.");
  }
  return {
    role: urls.visitorRole,
    statement_timeout: String(statementTimeoutMs),
    "jwt.claims.user_id": session.user_id,
    "jwt.claims.tenant_id": session.tenant_id,
    "jwt.claims.session_id": session.session_id,
    "jwt.claims.role": session.role,
  };
}

async function botSettings(key, botId) {
  const { rows } = await ownerPool.query(
    "select tenant_id, retry_after from app_private.authenticate_bot_request($1, null, $2, $3, 60, null)",
    [
      createHash("sha256").update(key).digest(),
      UUID.test(botId ?? "") ? botId : "00000000-0000-0000-0000-000000000000",
      botRequestsPerMinute,
    ],
  );
  if (rows[0].retry_after !== null) throw new Refused("This API key made too many requests; slow down.");
  return {
    role: urls.botRole,
    statement_timeout: String(statementTimeoutMs),
    "jwt.claims.bot_tenant_id": rows[0].tenant_id,
    "jwt.claims.bot_id": botId,
  };
}

async function pgSettings(req) {
  const key = req.headers["x-api-key"];
  if (key) return botSettings(key, req.headers["x-bot-id"]);
  const header = req.headers.authorization;
  if (header) return memberSettings(header);
  return { role: urls.visitorRole, statement_timeout: String(statementTimeoutMs) };
}

// V4 orders a function's rows only when told to; Tessera's schema says so with a V5 behavior.
const sortable = graphileUtils.makeJSONPgSmartTagsPlugin({
  version: 1,
  config: { procedure: { "app_public.search_events": { tags: { sortable: true, filterable: true } } } },
});

const middleware = postgraphile(requestPool, ["app_public"], {
  appendPlugins: [sortable],
  pgSettings,
  graphqlRoute: "/graphql",
  graphiql: false,
  disableQueryLog: true,
  watchPg: false,
  retryOnInitFail: false,
  setofFunctionsContainNulls: false,
  ignoreRBAC: true,
  legacyRelations: "omit",
});

const server = createServer(middleware);
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on("SIGTERM", () => {
  server.close();
  Promise.all([requestPool.end(), ownerPool.end()]).finally(() => process.exit(0));
});
