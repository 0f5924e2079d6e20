/** REST's side of the one error table: `{"error":{"code","message"}}` with the mapped status. */
import type { NextFunction, Request, Response } from "express";
import { AppError, errorEnvelope, toAppError } from "../errors.ts";
import type { AuthenticatedRequest } from "../graphql/context.ts";
import type { Logger } from "../logger.ts";

export function errorHandler(logger: Logger) {
  return (error: unknown, req: Request & AuthenticatedRequest, res: Response, _next: NextFunction): void => {
    const appError = toAppError(error);
    if (appError.code === "INTERNAL") {
      (req.log ?? logger).error({ err: error, requestId: req.requestId, path: req.path }, "unexpected error");
    }
    if (appError.retryAfter !== undefined) res.setHeader("Retry-After", String(appError.retryAfter));
    res.status(appError.status).json(errorEnvelope(appError));
  };
}

export function notFound(req: Request, _res: Response, next: NextFunction): void {
  next(new AppError("NOT_FOUND", `No route for ${req.method} ${req.path}.`));
}
