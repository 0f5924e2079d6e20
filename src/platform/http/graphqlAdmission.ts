/**
 * GraphQL operations in progress at once, in the whole process, over HTTP and WebSocket alike. Each
 * one in progress holds its parsed document (up to about 1 MiB under the token limit), then its plan
 * and its results while it waits for a database connection. With no bound but the sockets a client
 * opens, one anonymous client sending 1,000 distinct 240-field queries at once — over HTTP, or over
 * five WebSockets — filled the 256 MiB heap and the process died.
 *
 * An operation past the places waits before anything of it is read: over HTTP its body, token and
 * session (the request holds its socket only); over WebSocket its text, already read and counted
 * by the socket's caps (src/platform/websocketLimits.ts). The waiting are served one client address
 * at a time in turn (FairSlots). Over HTTP, a request past the waiting a client address may have, or
 * the process may keep, is refused at once. What an operation's plan may hold is bounded apart, by
 * its fields (src/platform/graphql/executionBudget.ts).
 */
import type { ServerResponse } from "node:http";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { AppError } from "../errors.ts";
import { FairSlots } from "../fairSlots.ts";
import { answerBefore, bodyBytes } from "./answerBudget.ts";

/**
 * 32 at once: more than the request pool's connections, so that a place is not what requests wait
 * for under ordinary load, and at most ~32 MiB of parsed documents.
 */
export const MAX_OPERATIONS_IN_PROGRESS = 32;

/** The places every GraphQL operation of a server takes, over HTTP and WebSocket. */
export function operationSlots(): FairSlots {
  return new FairSlots(MAX_OPERATIONS_IN_PROGRESS);
}

export interface WaitingLimits {
  /** HTTP requests of one client address waiting for a place (past it: 429 RATE_LIMITED). */
  perAddress: number;
  /** Operations waiting in all (past it: an HTTP request is refused 503 SERVICE_UNAVAILABLE). */
  total: number;
}

export interface AdmissionOptions {
  waiting?: WaitingLimits;
}

/** 200 waiting per address (more than a browser's or a proxy's connections would ever hold), 2,000 in all. */
export const GRAPHQL_WAITING: WaitingLimits = { perAddress: 200, total: 2_000 };

/** The largest GraphQL answer sent, in bytes; a larger one is replaced by QUERY_TOO_COMPLEX. */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/**
 * The HTTP side. A /graphql request takes its place before its token, session or body is read, and
 * gives it back once its answer is written (res.end), not once the client has read it. A request
 * pipelined behind another on its connection waits until the answer before it has gone out, so a
 * connection that never reads holds one answer and no place (how many a connection may have
 * unanswered, and the bytes of answers waiting for their clients, are bounded for every route:
 * answerBudget.ts). An answer over MAX_RESPONSE_BYTES is replaced by an error (an alias-heavy
 * document echoing its input had made 29.5 MB of one 95 kB request).
 */
export function graphqlAdmission(
  slots: FairSlots,
  { waiting = GRAPHQL_WAITING }: AdmissionOptions = {},
): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const address = req.ip ?? "";
    if (slots.full()) {
      if (slots.waitingOf(address) >= waiting.perAddress) {
        next(tooManyWaiting(waiting.perAddress));
        return;
      }
      if (slots.waiting >= waiting.total) {
        next(
          new AppError("SERVICE_UNAVAILABLE", "Too many GraphQL requests are waiting right now; try again shortly.", {
            retryAfter: 1,
            details: { reason: "TOO_MANY_REQUESTS_WAITING" },
          }),
        );
        return;
      }
    }
    const before = answerBefore(res);
    let held = false;
    const release = () => {
      if (!held) return;
      held = false;
      slots.release();
    };
    let done = false;
    const gone = () => {
      done = true;
      release();
    };
    res.once("finish", gone);
    res.once("close", gone);
    capAnswer(res, release);
    const admit = () => {
      // A client gone while it waited gives its place back at once.
      if (done || res.destroyed) return void slots.release();
      held = true;
      next();
    };
    let asked = false;
    const take = () => {
      // Once: the answer before may both finish and close.
      if (done || asked) return;
      asked = true;
      if (slots.tryAcquire()) admit();
      else void slots.acquire(address).then(admit);
    };
    if (before) {
      before.once("finish", take);
      before.once("close", take);
    } else take();
  };
}

/**
 * Holds back grafserv's writeHead until its end, so that an answer over MAX_RESPONSE_BYTES can be
 * replaced by an error with its own length; `ended` hears that the answer is written.
 */
function capAnswer(res: ServerResponse, ended: () => void): void {
  const { writeHead, write, end } = res;
  let head: Parameters<typeof writeHead> | undefined;
  // Once the body is being written, writeHead goes through: Node's own end() and write() call it
  // when nobody has (an answer of Express's res.json, the error handler's).
  let writing = false;
  const flushHead = () => {
    writing = true;
    if (head) writeHead.apply(res, head);
    head = undefined;
  };
  res.writeHead = function (this: ServerResponse, ...args: Parameters<typeof writeHead>) {
    if (writing) return writeHead.apply(this, args);
    head = args;
    return this;
  } as typeof writeHead;
  res.write = function (this: ServerResponse, ...args: Parameters<typeof write>) {
    flushHead();
    return write.apply(this, args);
  } as typeof write;
  res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    const bytes = bodyBytes(chunk);
    if (head && bytes > MAX_RESPONSE_BYTES) {
      writing = true;
      const body = Buffer.from(JSON.stringify({ errors: [answerTooLarge(bytes)] }));
      const [status, ...headers] = head;
      head = undefined;
      const fields = { ...(headers.find((h) => typeof h === "object" && h !== null) as Record<string, string>) };
      for (const name of Object.keys(fields)) if (name.toLowerCase() === "content-length") delete fields[name];
      (writeHead as (...args: unknown[]) => ServerResponse).call(this, status, {
        ...fields,
        "Content-Length": String(body.length),
      });
      ended();
      return (end as (...args: unknown[]) => ServerResponse).call(this, body);
    }
    flushHead();
    ended();
    return (end as (...args: unknown[]) => ServerResponse).call(this, chunk, ...rest);
  } as typeof end;
}

/** The error that takes the place of an answer over MAX_RESPONSE_BYTES (over WebSocket too). */
export function answerTooLarge(bytes: number) {
  const limit = MAX_RESPONSE_BYTES;
  return {
    message:
      `The result is ${bytes} bytes, more than the ${limit} an answer may have, and was not sent; ask for fewer ` +
      "fields or rows (what a mutation did is done).",
    extensions: { code: "QUERY_TOO_COMPLEX", details: { reason: "RESPONSE_TOO_LARGE", limit, bytes } },
  };
}

function tooManyWaiting(limit: number): AppError {
  return new AppError(
    "RATE_LIMITED",
    `At most ${limit} GraphQL requests from one client address may wait for their turn; send fewer at once.`,
    { retryAfter: 1, details: { reason: "TOO_MANY_REQUESTS_WAITING", limit } },
  );
}
