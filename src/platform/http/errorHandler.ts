/** REST's side of the one error table: `{"error":{"code","message"}}` with the mapped status. */
import type { NextFunction, Request, Response } from "express";
import { AppError, errorEnvelope, toAppError } from "../errors.ts";
import type { AuthenticatedRequest } from "../graphql/context.ts";
import type { Logger } from "../logger.ts";

/**
 * Logs what is the server's fault — INTERNAL at error level, an unreachable database at warn
 * level — once, with the request id; client mistakes are not errors of ours and are not logged here
 * (the request line already records their status). True when it wrote an error-level line.
 */
export function logServerFault(logger: Logger, appError: AppError, context: Record<string, unknown>): boolean {
  if (appError.code === "INTERNAL") {
    logger.error({ err: appError.cause ?? appError, ...context }, "unexpected error");
    return true;
  }
  // A failing dependency (the database, the image store) with its error; our own refusal under load
  // (too many password checks in line) by its message only: a flood of them is no flood of stacks.
  if (appError.code === "SERVICE_UNAVAILABLE")
    logger.warn(
      { ...(appError.cause ? { err: appError.cause } : { reason: appError.message }), ...context },
      "service unavailable",
    );
  return false;
}

/**
 * Answers a failed request: status and Retry-After from the table, the REST envelope — or, on
 * the GraphQL path, a GraphQL-shaped body, which is what GraphQL clients parse.
 */
export function sendError(
  req: Request & AuthenticatedRequest,
  res: Response,
  error: unknown,
  logger: Logger,
  graphqlPath = "/graphql",
): void {
  const appError = toAppError(error);
  // A fault's one error-level line is this: the request line (requestLog) is not another.
  res.locals.faultLogged = logServerFault(logger, appError, { requestId: req.requestId, path: req.path });
  if (appError.retryAfter !== undefined) res.setHeader("Retry-After", String(appError.retryAfter));
  res.status(appError.status);
  if (req.path === graphqlPath) {
    res.json({
      errors: [
        {
          message: appError.message,
          extensions: { code: appError.code, ...(appError.details ? { details: appError.details } : {}) },
        },
      ],
    });
  } else {
    res.json(errorEnvelope(appError));
  }
}

export function errorHandler(logger: Logger) {
  return (error: unknown, req: Request & AuthenticatedRequest, res: Response, _next: NextFunction): void => {
    if (res.headersSent) {
      // Too late for an error body (a stream broke mid-response): end it so the client sees the cut.
      logger.warn({ err: error, requestId: req.requestId, path: req.path }, "error after the response started");
      res.destroy();
      return;
    }
    sendError(req, res, error, logger);
  };
}

export function notFound(req: Request, _res: Response, next: NextFunction): void {
  next(new AppError("NOT_FOUND", `No route for ${req.method} ${req.path}.`));
}
