/**
 * Verifies `Authorization: Bearer …` once per HTTP request. A request without a token is
 * anonymous; a request with a bad token is refused with UNAUTHENTICATED before anything runs.
 */
import type { NextFunction, Request, Response } from "express";
import type { SessionCheck } from "../auth/sessionCheck.ts";
import { claimsFromAuthorization } from "../auth/tokens.ts";
import { AppError } from "../errors.ts";
import type { AuthenticatedRequest } from "../graphql/context.ts";
import type { Logger } from "../logger.ts";
import { sendError } from "./errorHandler.ts";

export function authenticate(jwtSecret: string, checkSession: SessionCheck, graphqlPath: string, logger: Logger) {
  return async (req: Request & AuthenticatedRequest, res: Response, next: NextFunction): Promise<void> => {
    try {
      // The token names a session; the session (user, tenant, current role) is who the caller is.
      const presented = claimsFromAuthorization(oneAuthorization(req), jwtSecret);
      req.claims = presented ? await checkSession(presented) : undefined;
      req.caller = { claims: req.claims, ip: req.ip, userAgent: req.get("user-agent"), requestId: req.requestId };
      next();
    } catch (error) {
      // A refused token, or a database that cannot check the session: GraphQL clients get a
      // GraphQL-shaped body, REST clients the envelope, both with the table's status.
      sendError(req, res, error, logger, graphqlPath);
    }
  };
}

/**
 * The request's `Authorization` header. Node keeps the first of several and drops the rest, while a
 * proxy in front may read the last: a request that sends it more than once is refused, not guessed at.
 */
function oneAuthorization(req: Request): string | undefined {
  let seen = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.length === 13 && req.rawHeaders[i]!.toLowerCase() === "authorization") seen++;
  }
  if (seen > 1) throw new AppError("UNAUTHENTICATED", "Send one Authorization header.");
  return req.get("authorization");
}

/** The caller of a request that went through `authenticate`. */
export function callerOf(req: Request & AuthenticatedRequest): NonNullable<AuthenticatedRequest["caller"]> {
  return req.caller ?? {};
}

/** For REST routes that need a signed-in user. */
export function requireUser(req: Request & AuthenticatedRequest): NonNullable<AuthenticatedRequest["claims"]> {
  if (!req.claims) throw new AppError("UNAUTHENTICATED", "Sign in to use this route.");
  return req.claims;
}
