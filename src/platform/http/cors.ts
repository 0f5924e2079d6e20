/**
 * CORS headers. Preflight (`OPTIONS`) requests go to the `cors` package. Every other request gets
 * the headers that package would set — `Access-Control-Allow-Origin` for an allowed origin,
 * `Vary: Origin`, `Access-Control-Expose-Headers` — without building a list of header objects and
 * calling two callbacks for each request, which was 2.5 % of a small GraphQL request's CPU
 * (bench/README.md). A response that already carries a `Vary` header goes to the package too, so
 * its merging is the package's own. test/http/cors.test.ts compares the two header by header.
 */
import cors from "cors";
import type { RequestHandler } from "express";

export interface CorsOptions {
  /** `*`: any origin is reflected; otherwise the exact origins allowed. */
  origins: "*" | string[];
  exposedHeaders: string[];
  /** Seconds a browser may keep a preflight's answer. */
  maxAge: number;
}

export function corsHeaders(options: CorsOptions): RequestHandler {
  const byPackage = cors({
    origin: options.origins === "*" ? true : options.origins,
    exposedHeaders: options.exposedHeaders,
    maxAge: options.maxAge,
  });
  const allowed = options.origins === "*" ? undefined : new Set(options.origins);
  const exposed = options.exposedHeaders.join(",");
  return (req, res, next) => {
    if (req.method === "OPTIONS" || res.getHeader("Vary") !== undefined) return byPackage(req, res, next);
    const origin = req.headers.origin;
    if (origin && (allowed === undefined || allowed.has(origin))) res.setHeader("Access-Control-Allow-Origin", origin);
    res.setHeader("Vary", "Origin");
    if (exposed) res.setHeader("Access-Control-Expose-Headers", exposed);
    next();
  };
}
