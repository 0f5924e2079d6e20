/**
 * Turns a request (HTTP or WebSocket) into the GraphQL context: the database role and the
 * transaction-local claims that RLS policies read.
 */
import type { SessionCheck } from "../auth/sessionCheck.ts";
import type { AccessClaims } from "../auth/tokens.ts";
import { claimsFromAuthorization } from "../auth/tokens.ts";
import { AppError } from "../errors.ts";

declare global {
  namespace Grafast {
    interface Context {
      /** Tenant of the verified token, used to scope subscription topics. */
      tenantId: string | null;
      userId: string | null;
      requestId: string | null;
      caller: Caller;
    }
  }
}

/** Who is asking: from the HTTP request or the WebSocket. */
export interface Caller {
  claims?: AccessClaims;
  ip?: string;
  userAgent?: string;
  /** The request's X-Request-Id, recorded with audit events. */
  requestId?: string;
}

/** Set by the HTTP layer once the bearer token of a request has been verified. */
export interface AuthenticatedRequest {
  claims?: AccessClaims;
  requestId?: string;
  caller?: Caller;
}

/**
 * The HTTP request that opened a WebSocket. `clientIp` is set at upgrade time (src/platform/websockets.ts)
 * by the same `trust proxy` rule that gives Express's req.ip, so per-IP limits and audit rows see
 * one client address whatever the transport.
 */
export interface WebSocketUpgradeRequest {
  clientIp?: string;
  socket?: { remoteAddress?: string };
  headers?: Record<string, string | string[] | undefined>;
}

export interface ContextOptions {
  jwtSecret: string;
  visitorRole: string;
  /** Per-request statement_timeout, so no request can hold a connection for long. */
  statementTimeoutMs?: number;
  services?: { checkSession: SessionCheck; values: Record<string, unknown> };
}

/** The pgSettings every statement of the request runs with. */
export function pgSettingsFor(
  claims: AccessClaims | undefined,
  visitorRole: string,
  requestId: string | undefined,
  statementTimeoutMs?: number,
): Record<string, string> {
  const settings: Record<string, string> = { role: visitorRole };
  if (statementTimeoutMs) settings.statement_timeout = String(statementTimeoutMs);
  if (requestId) settings["tessera.request_id"] = requestId;
  if (claims) {
    settings["jwt.claims.user_id"] = claims.sub;
    settings["jwt.claims.tenant_id"] = claims.tid;
    settings["jwt.claims.session_id"] = claims.sid;
    settings["jwt.claims.role"] = claims.role;
  }
  return settings;
}

/** The `grafast.context` callback of our preset. */
export function makeContextCallback(options: ContextOptions) {
  return async (requestContext: Partial<Grafast.RequestContext>): Promise<Partial<Grafast.Context>> => {
    const services = options.services;
    if (!services) throw new Error("this PostGraphile instance only builds the schema; it serves no requests");
    let caller: Caller = {};
    let requestId: string | undefined;
    const req = requestContext.expressv4?.req as (AuthenticatedRequest & object) | undefined;
    if (req) {
      // HTTP: the Express middleware has verified the token and its session (401 if bad).
      caller = req.caller ?? {};
      requestId = req.requestId;
    } else if (requestContext.ws) {
      // WebSocket: the token arrives in connection_init's payload; a bad one fails the operation.
      const header = connectionAuthorization(requestContext.ws.connectionParams);
      // As over HTTP, the session (user, tenant, current role) is who the caller is, not the token.
      const presented = claimsFromAuthorization(header, options.jwtSecret);
      const claims = presented ? await services.checkSession(presented) : undefined;
      const request = requestContext.ws.request as WebSocketUpgradeRequest | undefined;
      const userAgent = request?.headers?.["user-agent"];
      caller = {
        claims,
        ip: request?.clientIp ?? request?.socket?.remoteAddress,
        userAgent: typeof userAgent === "string" ? userAgent : undefined,
      };
    }
    const claims = caller.claims;
    return {
      ...services.values,
      pgSettings: pgSettingsFor(claims, options.visitorRole, requestId, options.statementTimeoutMs),
      tenantId: claims?.tid ?? null,
      userId: claims?.sub ?? null,
      requestId: requestId ?? null,
      caller,
    };
  };
}

/**
 * The `authorization` entry of a socket's connection_init payload (its key in any case), read from
 * the raw payload: grafserv's normalized parameters drop values it cannot read as a header (`{}`,
 * `[1]`) and turn others into strings or lists, which would make a malformed value anonymous.
 * Absent, `null` or `""` is anonymous, as an absent or empty HTTP header is; exactly one string
 * is the header; anything else (another type, or the key twice) fails the operation with
 * UNAUTHENTICATED, never silently anonymous.
 */
export function connectionAuthorization(connectionParams: unknown): string | undefined {
  if (typeof connectionParams !== "object" || connectionParams === null) return undefined;
  const values = Object.entries(connectionParams)
    .filter(([key, value]) => key.toLowerCase() === "authorization" && value !== null && value !== undefined)
    .map(([, value]) => value as unknown);
  if (values.length === 0) return undefined;
  if (values.length > 1) {
    throw new AppError(
      "UNAUTHENTICATED",
      "The authorization connection parameter is given more than once (its name in any case): send it once.",
    );
  }
  const [value] = values;
  if (typeof value !== "string") {
    throw new AppError("UNAUTHENTICATED", "The authorization connection parameter must be a string: 'Bearer <token>'.");
  }
  return value;
}
