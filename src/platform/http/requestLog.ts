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

const MESSAGES = { error: "request failed", warn: "request refused", info: "request" } as const;

export function requestLog(logger: Logger) {
  return (req: Request & AuthenticatedRequest, res: Response, next: NextFunction): void => {
    const started = performance.now();
    // The child logger is made when something logs through it, not for every request.
    let child: Logger | undefined;
    Object.defineProperty(req, "log", {
      get: () => (child ??= logger.child({ requestId: req.requestId })),
      configurable: true,
    });
    res.on("finish", () => {
      if (req.path === "/metrics" || req.path.startsWith("/health")) return;
      const level = res.statusCode >= 500 ? "error" : res.statusCode >= 400 ? "warn" : "info";
      if (!logger.isLevelEnabled(level)) return;
      const line = {
        method: req.method,
        path: routeTemplate(req, res) ?? req.path,
        status: res.statusCode,
        ms: Math.round(performance.now() - started),
      };
      req.log![level](line, MESSAGES[level]);
    });
    next();
  };
}
