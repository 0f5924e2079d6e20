/**
 * Bot authentication for every /api/bot/* route: `X-API-KEY` (an API key of a tenant, or the static
 * SERVICE_API_KEY) and `X-BOT-ID` (an active bot of that tenant). A missing or bad key is 401; a bot
 * of another tenant, an unknown one or a malformed id is 403 — never data. One SQL round trip also
 * takes a unit of the key's rate limit. Then `asBot` runs the route's SQL as the bot role, with the
 * tenant and bot as claims, so RLS confines every read to the bot's tenant.
 */
import { timingSafeEqual } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import type pg from "pg";
import { sha256 } from "../../platform/auth/secrets.ts";
import { AppError, isStalePlan } from "../../platform/errors.ts";
import { retryingConflicts } from "../../platform/db/conflicts.ts";
import { beginWith, inTransaction, prepared, quoteLiteral } from "../../platform/db/pools.ts";
import type { CommerceConfig } from "./config.ts";

/** Who a bot request is: the tenant of its key and the bot it speaks for. */
export interface BotCaller {
  tenantId: string;
  botId: string;
  /** The API key's id; null for the deployment's SERVICE_API_KEY. */
  apiKeyId: string | null;
  requestId?: string;
}

const callers = new WeakMap<Request, BotCaller>();

/** The bot of a request that passed `botAuthentication`. */
export function botOf(req: Request): BotCaller {
  const caller = callers.get(req);
  if (!caller) throw new AppError("UNAUTHENTICATED", "Send X-API-KEY and X-BOT-ID.");
  return caller;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const AUTHENTICATE_SQL =
  "select tenant_id, api_key_id, retry_after from app_private.authenticate_bot_request($1, $2, $3, $4, 60, $5)";

/**
 * The time the rate-limit windows are computed from: PostgreSQL's now() unless a clock is set. Tests
 * set one so that a burst of requests falls in one window whatever the wall clock says.
 */
let clock: (() => Date) | undefined;
export function setBotRateLimitClock(next: (() => Date) | undefined): void {
  clock = next;
}

export function botAuthentication(ownerPool: pg.Pool, config: CommerceConfig) {
  const serviceHash = config.serviceKey ? sha256(config.serviceKey.key) : undefined;
  return async (req: Request & { requestId?: string }, _res: Response, next: NextFunction): Promise<void> => {
    try {
      const key = req.get("x-api-key");
      if (!key) throw new AppError("UNAUTHENTICATED", "Send the store's API key in X-API-KEY.");
      const hash = sha256(key);
      const isServiceKey = serviceHash !== undefined && timingSafeEqual(hash, serviceHash);
      const botId = req.get("x-bot-id");
      if (!botId) throw new AppError("UNAUTHENTICATED", "Send the bot's id in X-BOT-ID.");
      // A malformed bot id is still checked against the key first: a bad key stays 401.
      const { rows } = await ownerPool.query<{
        tenant_id: string;
        api_key_id: string | null;
        retry_after: number | null;
      }>(
        prepared(AUTHENTICATE_SQL, [
          hash,
          isServiceKey ? config.serviceKey!.tenantSlug : null,
          UUID.test(botId) ? botId : "00000000-0000-0000-0000-000000000000",
          config.botRequestsPerMinute,
          clock?.() ?? null,
        ]),
      );
      const row = rows[0]!;
      if (row.retry_after !== null)
        throw new AppError("RATE_LIMITED", "This API key made too many requests; slow down.", {
          retryAfter: row.retry_after,
          details: { retryAfter: row.retry_after },
        });
      callers.set(req, { tenantId: row.tenant_id, botId, apiKeyId: row.api_key_id, requestId: req.requestId });
      next();
    } catch (error) {
      next(error);
    }
  };
}

export type BotRunner = <T>(caller: BotCaller, work: (client: pg.PoolClient) => Promise<T>) => Promise<T>;

/**
 * Runs `work` in one transaction as the bot role (over the authenticator's pool), with the claims
 * the commerce SQL reads (jwt.claims.bot_tenant_id, jwt.claims.bot_id), the request id and the
 * statement timeout requests get. The transaction first checks the caller again
 * (`app_hidden.confirm_bot_caller`, in the same message as `begin`): the check before the body was
 * read may be as old as the client took to send it, and a key revoked, a bot disabled or commerce
 * switched off since then refuses the request (401, 403) before it writes anything.
 */
export function botRunner(pool: pg.Pool, botRole: string, statementTimeoutMs: number): BotRunner {
  return async (caller, work) => {
    const client = await pool.connect();
    let stale: Error | undefined;
    try {
      // `begin` and the settings in one message; set_config('role', …, true) is SET LOCAL ROLE.
      const settings = {
        role: botRole,
        "jwt.claims.bot_tenant_id": caller.tenantId,
        "jwt.claims.bot_id": caller.botId,
        "tessera.request_id": caller.requestId ?? "",
        statement_timeout: String(statementTimeoutMs),
      };
      const keyId = caller.apiKeyId === null ? "null" : `${quoteLiteral(caller.apiKeyId)}::uuid`;
      const confirm = `select app_hidden.confirm_bot_caller(${keyId})`;
      // `work` is the request's whole transaction: sent again if PostgreSQL aborts it for another.
      return await retryingConflicts(() =>
        inTransaction(client, () => work(client), `${beginWith(settings)}; ${confirm}`),
      );
    } catch (error) {
      // Its prepared statements are stale for as long as it lives: the pool makes a new one.
      if (isStalePlan(error)) stale = error as Error;
      throw error;
    } finally {
      client.release(stale);
    }
  };
}
