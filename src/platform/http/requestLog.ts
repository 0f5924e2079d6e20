/**
 * One log line per request, with the request id on it (and on every line logged through
 * `req.log` while handling it): method, route template, status, duration.
 */
import type { NextFunction, Request, Response } from "express";
import type { AuthenticatedRequest } from "../graphql/context.ts";
import type { Logger } from "../logger.ts";
import { routeTemplate } from "../metrics.ts";

declare global {
  namespace Express {
    interface Request {
      log?: Logger;
    }
  }
}

export function requestLog(logger: Logger) {
  return (req: Request & AuthenticatedRequest, res: Response, next: NextFunction): void => {
    const started = performance.now();
    req.log = logger.child({ requestId: req.requestId });
    res.on("finish", () => {
      if (req.path === "/metrics" || req.path.startsWith("/health")) return;
      const line = {
        method: req.method,
        path: routeTemplate(req, res) ?? req.path,
        status: res.statusCode,
        ms: Math.round(performance.now() - started),
      };
      if (res.statusCode >= 500) req.log!.error(line, "request failed");
      else if (res.statusCode >= 400) req.log!.warn(line, "request refused");
      else req.log!.info(line, "request");
    });
    next();
  };
}
