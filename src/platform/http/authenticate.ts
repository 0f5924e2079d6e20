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
      const presented = claimsFromAuthorization(req.get("authorization"), jwtSecret);
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

/** The caller of a request that went through `authenticate`. */
export function callerOf(req: Request & AuthenticatedRequest): NonNullable<AuthenticatedRequest["caller"]> {
  return req.caller ?? {};
}

/** For REST routes that need a signed-in user. */
export function requireUser(req: Request & AuthenticatedRequest): NonNullable<AuthenticatedRequest["claims"]> {
  if (!req.claims) throw new AppError("UNAUTHENTICATED", "Sign in to use this route.");
  return req.claims;
}
