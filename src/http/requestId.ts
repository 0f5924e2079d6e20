/** Every request gets an id: the client's `X-Request-Id` when it is sane, otherwise a new UUID. */
import { randomUUID } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import type { AuthenticatedRequest } from "../graphql/context.ts";

const SANE_ID = /^[A-Za-z0-9._:\-]{1,128}$/;

export function requestId(req: Request & AuthenticatedRequest, res: Response, next: NextFunction): void {
  const given = req.get("x-request-id");
  req.requestId = given && SANE_ID.test(given) ? given : randomUUID();
  res.setHeader("X-Request-Id", req.requestId);
  next();
}
