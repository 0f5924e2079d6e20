/**
 * Verifies `Authorization: Bearer …` once per HTTP request. A request without a token is
 * anonymous; a request with a bad token is refused with UNAUTHENTICATED before anything runs.
 */
import type { NextFunction, Request, Response } from "express";
import type { SessionCheck } from "../auth/sessionCheck.ts";
import { claimsFromAuthorization, type AccessClaims } from "../auth/tokens.ts";
import { AppError } from "../errors.ts";
import type { AuthenticatedRequest } from "../graphql/context.ts";
import type { PinnedTransaction } from "../graphql/requestTransactions.ts";
import type { Logger } from "../logger.ts";
import { sendError } from "./errorHandler.ts";

/**
 * How GraphQL requests check their session: in the round trip that opens the transaction their first
 * database access uses (src/platform/graphql/requestTransactions.ts), ended once the request is answered.
 * Only once the request is whole: a POST's body (at most `maxBodyBytes`, its length declared) is
 * read first, so a client that sends its body slowly holds no database connection meanwhile; a
 * body of undeclared length is left to grafserv, and its session checked on its own.
 */
export interface GraphqlSessions {
  maxBodyBytes: number;
  open(
    presented: AccessClaims,
    requestId: string | undefined,
  ): Promise<{ claims: AccessClaims; pinned: PinnedTransaction }>;
}

export function authenticate(
  jwtSecret: string,
  checkSession: SessionCheck,
  graphqlPath: string,
  logger: Logger,
  graphqlSessions?: GraphqlSessions,
) {
  return async (req: Request & AuthenticatedRequest, res: Response, next: NextFunction): Promise<void> => {
    try {
      // The token names a session; the session (user, tenant, current role) is who the caller is.
      const presented = claimsFromAuthorization(req.get("authorization"), jwtSecret);
      const sessions = presented && req.path === graphqlPath ? graphqlSessions : undefined;
      const body = sessions && req.method === "POST" ? await declaredBody(req, sessions.maxBodyBytes) : undefined;
      if (body === "gone") return;
      if (presented && sessions && (req.method !== "POST" || body)) {
        // grafserv takes a body that is already read as it would have read it (a buffer).
        if (body) req.body = body;
        // Listening before the check: a client gone while it runs must not leave its transaction open.
        let closed = false;
        res.once("close", () => {
          closed = true;
          void req.pinned?.end();
        });
        const { claims, pinned } = await sessions.open(presented, req.requestId);
        req.claims = claims;
        req.pinned = pinned;
        if (closed) return void (await pinned.end());
      } else {
        req.claims = presented ? await checkSession(presented) : undefined;
      }
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

/**
 * The whole body of a request whose Content-Length is declared and at most `maxBytes`; undefined
 * for any other (grafserv reads and limits it); "gone" when the client left before sending it all.
 */
async function declaredBody(req: Request, maxBytes: number): Promise<Buffer | "gone" | undefined> {
  const declared = req.get("content-length");
  if (!declared || !/^\d{1,9}$/.test(declared) || Number(declared) > maxBytes || req.get("transfer-encoding")) {
    return undefined;
  }
  // Events rather than `for await`: a stream's async iterator costs more than the read itself here.
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const gone = () => resolve("gone");
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.once("error", gone);
    req.once("close", () => {
      if (!req.complete) gone();
    });
    req.once("end", () => resolve(req.complete ? Buffer.concat(chunks) : "gone"));
  });
}
