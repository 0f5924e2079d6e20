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
import type { Socket } from "node:net";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { AppError } from "../errors.ts";
import { FairSlots } from "../fairSlots.ts";
import type { Logger } from "../logger.ts";

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
  /** Answers waiting for their clients, shared with the WebSocket side (default: the process's limit, alone). */
  unsent?: UnsentAnswers;
  waiting?: WaitingLimits;
}

/** 200 waiting per address (more than a browser's or a proxy's connections would ever hold), 2,000 in all. */
export const GRAPHQL_WAITING: WaitingLimits = { perAddress: 200, total: 2_000 };

/** Requests one connection may have sent and not yet been answered (HTTP/1.1 pipelining). */
export const MAX_PIPELINED = 8;

/** The largest GraphQL answer sent, in bytes; a larger one is replaced by QUERY_TOO_COMPLEX. */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** Bytes of answers written and not yet taken by their clients, in the whole process (HTTP and WebSocket). */
export const MAX_UNSENT_BYTES = 64 * 1024 * 1024;

/**
 * The HTTP side. A /graphql request takes its place before its token, session or body is read, and
 * gives it back once its answer is written (res.end), not once the client has read it. A request
 * pipelined behind another on its connection waits until the answer before it has gone out, so a
 * connection that never reads holds one answer and no place; past MAX_PIPELINED unanswered on one
 * connection a request is refused at once. An answer over MAX_RESPONSE_BYTES is replaced by an error
 * (an alias-heavy document echoing its input had made 29.5 MB of one 95 kB request), and past
 * MAX_UNSENT_BYTES of answers waiting for their clients in the process, the connection of the oldest
 * is cut: clients that never read had grown the process by 25–30 MiB each, without end.
 */
export function graphqlAdmission(
  slots: FairSlots,
  { unsent = new UnsentAnswers(MAX_UNSENT_BYTES), waiting = GRAPHQL_WAITING }: AdmissionOptions = {},
): RequestHandler {
  /** Per connection with answers not yet gone out: how many, and the last one started. */
  const connections = new WeakMap<Socket, { open: number; last: ServerResponse }>();
  return (req: Request, res: Response, next: NextFunction): void => {
    const address = req.ip ?? "";
    const socket = req.socket;
    const connection = connections.get(socket);
    if (connection && connection.open >= MAX_PIPELINED) {
      next(tooManyPipelined());
      return;
    }
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
    const before = connection?.last;
    if (connection) {
      connection.open += 1;
      connection.last = res;
    } else connections.set(socket, { open: 1, last: res });
    let held = false;
    const release = () => {
      if (!held) return;
      held = false;
      slots.release();
    };
    let done = false;
    const gone = () => {
      if (done) return;
      done = true;
      release();
      unsent.remove(res);
      const own = connections.get(socket);
      if (own && --own.open === 0) connections.delete(socket);
    };
    res.once("finish", gone);
    res.once("close", gone);
    capAnswer(res, (bytes) => {
      release();
      // An answer to a client already gone is dropped by Node; it would never be counted out.
      if (!done && !res.destroyed) unsent.add(res, bytes, () => res.destroy());
    });
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
    if (before && !before.writableFinished && !before.destroyed) {
      before.once("finish", take);
      before.once("close", take);
    } else take();
  };
}

/**
 * Answers written and not yet taken by their clients, in the whole process (HTTP responses and
 * WebSocket messages alike), by what they are waiting on: a response, or a socket. Past the limit,
 * the connection that has waited longest for its client to read loses it: clients that never read
 * had grown the process by 25–30 MiB each over HTTP, and by up to 8 MiB a WebSocket (its own cut
 * comes at MAX_BUFFERED_BYTES, past one more message), so without end over enough connections.
 */
export class UnsentAnswers {
  /** What each connection waits to send, in the order their waits began. */
  readonly #waiting = new Map<object, { bytes: number; cut: () => void }>();
  #bytes = 0;
  readonly #limit: number;
  readonly #logger: Pick<Logger, "warn"> | undefined;

  constructor(limit: number, logger?: Pick<Logger, "warn">) {
    this.#limit = limit;
    this.#logger = logger;
  }

  /** Bytes waiting for their clients now, in all (the tessera_graphql_unsent_answer_bytes gauge). */
  get bytes(): number {
    return this.#bytes;
  }

  /** `bytes` more are waiting for `key`'s client; `cut` ends its connection. */
  add(key: object, bytes: number, cut: () => void): void {
    if (bytes === 0) return;
    const entry = this.#waiting.get(key);
    if (entry) entry.bytes += bytes;
    else this.#waiting.set(key, { bytes, cut });
    this.#bytes += bytes;
    // Past the limit, the clients that have read least for longest lose their connections.
    for (const [oldest, { cut: cutOldest }] of this.#waiting) {
      if (this.#bytes <= this.#limit) break;
      this.#logger?.warn(
        { unsentBytes: this.#bytes, limit: this.#limit },
        "answers wait for clients that do not read; the connection waiting longest is cut",
      );
      this.remove(oldest);
      cutOldest();
    }
  }

  /** `bytes` of `key`'s have gone out. */
  sent(key: object, bytes: number): void {
    const entry = this.#waiting.get(key);
    if (!entry) return;
    if (entry.bytes <= bytes) {
      this.remove(key);
      return;
    }
    entry.bytes -= bytes;
    this.#bytes -= bytes;
  }

  /** Nothing of `key`'s waits any more: all gone out, or its connection closed. */
  remove(key: object): void {
    const entry = this.#waiting.get(key);
    if (!entry) return;
    this.#waiting.delete(key);
    this.#bytes -= entry.bytes;
  }
}

/**
 * Holds back grafserv's writeHead until its end, so that an answer over MAX_RESPONSE_BYTES can be
 * replaced by an error with its own length; `ended` hears each answer's bytes as it is written.
 */
function capAnswer(res: ServerResponse, ended: (bytes: number) => void): void {
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
    const bytes = typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk instanceof Uint8Array ? chunk.length : 0;
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
      ended(body.length);
      return (end as (...args: unknown[]) => ServerResponse).call(this, body);
    }
    flushHead();
    ended(bytes);
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

function tooManyPipelined(): AppError {
  return new AppError(
    "RATE_LIMITED",
    `At most ${MAX_PIPELINED} requests may wait for their answers on one connection; wait for some first.`,
    { retryAfter: 1, details: { reason: "TOO_MANY_REQUESTS_WAITING", limit: MAX_PIPELINED } },
  );
}

function tooManyWaiting(limit: number): AppError {
  return new AppError(
    "RATE_LIMITED",
    `At most ${limit} GraphQL requests from one client address may wait for their turn; send fewer at once.`,
    { retryAfter: 1, details: { reason: "TOO_MANY_REQUESTS_WAITING", limit } },
  );
}
