/**
 * The hot path without Express's router. Every /graphql request used to walk the whole middleware
 * stack, with its REST routers, docs and health routes, and pay a path match and a closure at each
 * layer that never applied to it. A lane runs a fixed list of the same Express middlewares, in the
 * same order, on Express's own request and response objects. So `req.ip`, `req.get` and `res.json`
 * behave as they do behind the router, and the first error goes to the error handler.
 */
import type { ErrorRequestHandler, Express, NextFunction, Request, RequestHandler, Response } from "express";
import type { IncomingMessage, ServerResponse } from "node:http";

export type Lane = (req: IncomingMessage, res: ServerResponse) => void;

export function middlewareLane(app: Express, handlers: readonly RequestHandler[], onError: ErrorRequestHandler): Lane {
  return (incoming, outgoing) => {
    // What Express's app.handle and router set up before the first middleware runs.
    const req = Object.setPrototypeOf(incoming, app.request) as Request;
    const res = Object.setPrototypeOf(outgoing, app.response) as Response;
    req.res = res;
    res.req = req;
    res.locals ??= Object.create(null);
    req.baseUrl = "";
    req.originalUrl ??= req.url;
    let index = 0;
    const fail = (error: unknown) => {
      try {
        onError(error, req, res, () => res.destroy());
      } catch {
        res.destroy();
      }
    };
    const next: NextFunction = (error?: unknown) => {
      if (error) return fail(error);
      const handler = handlers[index++];
      if (!handler) return fail(new Error(`the lane for ${req.path} ended without an answer`));
      try {
        const result: unknown = handler(req, res, next);
        // Express 5 sends a rejected promise of an async middleware to the error handler; so does the lane.
        if (result instanceof Promise) result.catch((rejection: unknown) => next(rejection ?? new Error("rejected")));
      } catch (thrown) {
        next(thrown ?? new Error("thrown"));
      }
    };
    req.next = next;
    next();
  };
}

/**
 * A middleware that sets the same headers whatever the request (helmet, configured without a content
 * security policy, reads nothing of the request), run once here and replayed as a list of headers.
 */
export function fixedHeaders(middleware: RequestHandler): RequestHandler {
  // Names and values in two arrays, replayed by index: no pair to destructure per header per request.
  const names: string[] = [];
  const values: string[] = [];
  const removed: string[] = [];
  const recorder = {
    setHeader: (name: string, value: unknown) => {
      names.push(name);
      values.push(String(value));
    },
    removeHeader: (name: string) => removed.push(name),
  };
  let passed = false;
  void middleware({} as Request, recorder as unknown as Response, () => {
    passed = true;
  });
  if (!passed) throw new Error("fixedHeaders: the middleware did not pass the request on at once");
  return (_req, res, next) => {
    for (let i = 0; i < names.length; i++) res.setHeader(names[i]!, values[i]!);
    for (let i = 0; i < removed.length; i++) res.removeHeader(removed[i]!);
    next();
  };
}
