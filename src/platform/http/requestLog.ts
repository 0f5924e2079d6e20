/**
 * One log line per request, with the request id on it (so are the error handler's lines): method,
 * route template, status, duration.
 */
import type { NextFunction, Request, Response } from "express";
import type { AuthenticatedRequest } from "../graphql/context.ts";
import type { Logger } from "../logger.ts";
import { routeTemplate } from "../metrics.ts";

const MESSAGES = { error: "request failed", warn: "request refused", info: "request" } as const;

export function requestLog(logger: Logger) {
  return (req: Request & AuthenticatedRequest, res: Response, next: NextFunction): void => {
    const started = performance.now();
    res.on("finish", () => {
      if (req.path === "/metrics" || req.path.startsWith("/health")) return;
      // 503 is a refusal (overload, or a dependency away), whose cause the error handler logs at warn.
      const level = res.statusCode >= 500 && res.statusCode !== 503 ? "error" : res.statusCode >= 400 ? "warn" : "info";
      if (!logger.isLevelEnabled(level)) return;
      const line = {
        requestId: req.requestId,
        method: req.method,
        path: routeTemplate(req, res) ?? req.path,
        status: res.statusCode,
        ms: Math.round(performance.now() - started),
      };
      logger[level](line, MESSAGES[level]);
    });
    next();
  };
}
