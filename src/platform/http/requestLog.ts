/**
 * One log line per request, with the request id on it (so are the error handler's lines): method,
 * route template, status, duration.
 */
import type { NextFunction, Request, Response } from "express";
import type { AuthenticatedRequest } from "../graphql/context.ts";
import type { Logger } from "../logger.ts";
import { routeTemplate } from "../metrics.ts";

/**
 * `routeOfPath` names the route of a request refused before its handler ran; a path of no route is
 * logged as it came.
 */
export function requestLog(logger: Logger, routeOfPath: (path: string) => string | undefined) {
  return (req: Request & AuthenticatedRequest, res: Response, next: NextFunction): void => {
    const started = performance.now();
    res.on("finish", () => {
      if (req.path === "/metrics" || req.path.startsWith("/health")) return;
      // 503 is a refusal (overload, or a dependency away), whose cause the error handler logs at warn;
      // a fault whose cause the error handler logged at error level has had its one error line.
      const { statusCode: status } = res;
      const failed = status >= 500 && status !== 503;
      const level = failed && res.locals.faultLogged !== true ? "error" : status >= 400 ? "warn" : "info";
      if (!logger.isLevelEnabled(level)) return;
      const line = {
        requestId: req.requestId,
        method: req.method,
        path: routeTemplate(req, res) ?? routeOfPath(req.path) ?? req.path,
        status,
        ms: Math.round(performance.now() - started),
      };
      logger[level](line, failed ? "request failed" : status >= 400 ? "request refused" : "request");
    });
    next();
  };
}
