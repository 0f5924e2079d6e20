/**
 * Turns a request (HTTP or WebSocket) into the GraphQL context: the database role and the
 * transaction-local claims that RLS policies read.
 */
import type { AccessClaims } from "../auth/tokens.ts";
import { claimsFromAuthorization } from "../auth/tokens.ts";

declare global {
  namespace Grafast {
    interface Context {
      /** Tenant of the verified token, used to scope subscription topics. */
      tenantId: string | null;
      userId: string | null;
      requestId: string | null;
    }
  }
}

/** Set by the HTTP layer once the bearer token of a request has been verified. */
export interface AuthenticatedRequest {
  claims?: AccessClaims;
  requestId?: string;
}

export interface ContextOptions {
  jwtSecret: string;
  visitorRole: string;
}

/** The pgSettings every statement of the request runs with. */
export function pgSettingsFor(claims: AccessClaims | undefined, visitorRole: string, requestId: string | undefined): Record<string, string> {
  const settings: Record<string, string> = { role: visitorRole };
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
  return (requestContext: Partial<Grafast.RequestContext>): Partial<Grafast.Context> => {
    let claims: AccessClaims | undefined;
    let requestId: string | undefined;
    const req = requestContext.expressv4?.req as (AuthenticatedRequest & object) | undefined;
    if (req) {
      // HTTP: the Express middleware has verified the token already (and answered 401 if bad).
      claims = req.claims;
      requestId = req.requestId;
    } else if (requestContext.ws) {
      // WebSocket: the token arrives in connection_init's payload; a bad one fails the operation.
      const params = requestContext.ws.normalizedConnectionParams as Record<string, unknown> | undefined;
      const header = params?.["authorization"];
      claims = claimsFromAuthorization(typeof header === "string" ? header : undefined, options.jwtSecret);
    }
    return {
      pgSettings: pgSettingsFor(claims, options.visitorRole, requestId),
      tenantId: claims?.tid ?? null,
      userId: claims?.sub ?? null,
      requestId: requestId ?? null,
    };
  };
}
