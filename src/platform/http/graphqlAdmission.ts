/**
 * GraphQL operations in progress at once, in the whole process, over HTTP and WebSocket alike. Each
 * one in progress holds its parsed document (up to about 1 MiB under the token limit), then its plan
 * and its results while it waits for a database connection. With no bound but the sockets a client
 * opens, one anonymous client sending 1,000 distinct 240-field queries at once — over HTTP, or over
 * five WebSockets — filled the 256 MiB heap and the process died.
 *
 * An operation past the places waits before anything of it is read: over HTTP its body, token and
 * session (the request holds its socket only); over WebSocket its text, already read and counted
 * by the socket's caps (src/platform/websocketLimits.ts). The waiting are served one client address
 * at a time in turn (FairSlots). Over HTTP, a request past the waiting a client address may have, or
 * the process may keep, is refused at once. What an operation's plan may hold is bounded apart, by
 * its fields (src/platform/graphql/executionBudget.ts).
 */
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { AppError } from "../errors.ts";
import { FairSlots } from "../fairSlots.ts";

/**
 * 32 at once: more than the request pool's connections, so that a place is not what requests wait
 * for under ordinary load, and at most ~32 MiB of parsed documents.
 */
export const MAX_OPERATIONS_IN_PROGRESS = 32;

/** The places every GraphQL operation of a server takes, over HTTP and WebSocket. */
export function operationSlots(): FairSlots {
  return new FairSlots(MAX_OPERATIONS_IN_PROGRESS);
}

export interface WaitingLimits {
  /** HTTP requests of one client address waiting for a place (past it: 429 RATE_LIMITED). */
  perAddress: number;
  /** Operations waiting in all (past it: an HTTP request is refused 503 SERVICE_UNAVAILABLE). */
  total: number;
}

/** 200 waiting per address (more than a browser's or a proxy's connections would ever hold), 2,000 in all. */
export const GRAPHQL_WAITING: WaitingLimits = { perAddress: 200, total: 2_000 };

/** The HTTP side: a /graphql request takes its place before its token, session or body is read. */
export function graphqlAdmission(slots: FairSlots, limits: WaitingLimits = GRAPHQL_WAITING): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const address = req.ip ?? "";
    if (slots.full()) {
      if (slots.waitingOf(address) >= limits.perAddress) {
        next(tooManyWaiting(limits.perAddress));
        return;
      }
      if (slots.waiting >= limits.total) {
        next(
          new AppError("SERVICE_UNAVAILABLE", "Too many GraphQL requests are waiting right now; try again shortly.", {
            retryAfter: 1,
            details: { reason: "TOO_MANY_REQUESTS_WAITING" },
          }),
        );
        return;
      }
    }
    const admit = () => {
      let held = true;
      const release = () => {
        if (!held) return;
        held = false;
        slots.release();
      };
      // A client gone while it waited gives its place back at once.
      if (res.destroyed) return release();
      // Given back once the answer is handed to the socket ('prefinish': res.end() has run), not once
      // the client has read it: a client that never reads holds no place.
      res.once("prefinish", release);
      res.once("close", release);
      next();
    };
    if (slots.tryAcquire()) admit();
    else void slots.acquire(address).then(admit);
  };
}

function tooManyWaiting(limit: number): AppError {
  return new AppError(
    "RATE_LIMITED",
    `At most ${limit} GraphQL requests from one client address may wait for their turn; send fewer at once.`,
    { retryAfter: 1, details: { reason: "TOO_MANY_REQUESTS_WAITING", limit } },
  );
}
