/** Every request gets an id: the client's `X-Request-Id` when it is sane, otherwise a new UUID. */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import type { AuthenticatedRequest } from "../graphql/context.ts";

const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The id of the request being handled, for code that is not handed the request (GraphQL's error
 * masking runs inside grafserv and only sees the error).
 */
const requestIdStorage = new AsyncLocalStorage<string>();

export function currentRequestId(): string | undefined {
  return requestIdStorage.getStore();
}

export function requestId(req: Request & AuthenticatedRequest, res: Response, next: NextFunction): void {
  const given = req.get("x-request-id");
  const id = given && SANE_ID.test(given) ? given : randomUUID();
  req.requestId = id;
  res.setHeader("X-Request-Id", id);
  requestIdStorage.run(id, next);
}
