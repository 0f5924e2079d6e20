/**
 * What answers may wait for their clients, on every HTTP route. A client that pipelines requests
 * (HTTP/1.1) and never reads had every one answered into the process's memory: 10 connections
 * pipelining 2,000 `GET /metrics` each ended the process (heap out of memory), and 20 pipelining
 * `GET /openapi.json` (451 kB an answer) grew it past 2 GiB and kept `/ready` unanswered for
 * minutes. Now:
 *
 * - past MAX_PIPELINED requests sent on one connection and not yet answered, a request is refused at
 *   once with 429 RATE_LIMITED `TOO_MANY_REQUESTS_WAITING` (a few hundred bytes in place of the
 *   answer; Node stops reading a connection whose answers wait, so one connection holds at most one
 *   read's worth of such refusals);
 * - every answer written (res.end) counts against MAX_UNSENT_BYTES, shared with the GraphQL
 *   WebSocket messages, until it has gone to the kernel; past it, the connection that has waited
 *   longest for its client is cut (UnsentAnswers). Streamed answers (image downloads) wait for their
 *   client as they go and are not counted.
 */
import type { ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { AppError } from "../errors.ts";
import type { Logger } from "../logger.ts";

/** Requests one connection may have sent and not yet been answered (HTTP/1.1 pipelining). */
export const MAX_PIPELINED = 8;

/** Bytes of answers written and not yet taken by their clients, in the whole process (HTTP and WebSocket). */
export const MAX_UNSENT_BYTES = 64 * 1024 * 1024;

/** Answers written as longer strings than this are handed to Node (and ws) as bytes (see answerBudget). */
export const HEAP_STRING_CHARS = 16 * 1024;

/** The bytes of what `res.end` is given: a string (UTF-8), bytes, or nothing. */
export function bodyBytes(chunk: unknown): number {
  return typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk instanceof Uint8Array ? chunk.length : 0;
}

/** For an answer pipelined behind another on its connection, that one (until it has gone out). */
const before = new WeakMap<ServerResponse, ServerResponse>();

/** The answer before `res` on its connection, while it has not gone out; undefined otherwise. */
export function answerBefore(res: ServerResponse): ServerResponse | undefined {
  const previous = before.get(res);
  return previous && !previous.writableFinished && !previous.destroyed ? previous : undefined;
}

export function answerBudget(unsent: UnsentAnswers): RequestHandler {
  /** Per connection with answers not yet gone out: how many, and the last one started. */
  const connections = new WeakMap<Socket, { open: number; last: ServerResponse }>();
  return (req: Request, res: Response, next: NextFunction): void => {
    const socket = req.socket;
    const connection = connections.get(socket);
    // Refused, its answer (small) still goes out in its turn, and is counted as any other.
    const refused = connection !== undefined && connection.open >= MAX_PIPELINED;
    if (!refused) {
      if (connection) {
        before.set(res, connection.last);
        connection.open += 1;
        connection.last = res;
      } else connections.set(socket, { open: 1, last: res });
    }
    let done = false;
    const gone = () => {
      if (done) return;
      done = true;
      unsent.remove(res);
      if (refused) return;
      const own = connections.get(socket);
      if (own && --own.open === 0) connections.delete(socket);
    };
    res.once("finish", gone);
    res.once("close", gone);
    const { end } = res;
    res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
      // A large answer goes as bytes: a string waiting in the socket's buffer for a client that does
      // not read stays on the JavaScript heap (two bytes a character once any is not Latin-1).
      if (typeof chunk === "string" && chunk.length > HEAP_STRING_CHARS)
        chunk = Buffer.from(chunk, typeof rest[0] === "string" ? (rest.shift() as BufferEncoding) : "utf8");
      const bytes = bodyBytes(chunk);
      // An answer to a client already gone is dropped by Node; it would never be counted out.
      if (!done && !res.destroyed) unsent.add(res, bytes, () => res.destroy());
      return (end as (...args: unknown[]) => ServerResponse).call(this, chunk, ...rest);
    } as typeof end;
    next(refused ? tooManyPipelined() : undefined);
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

  /** Bytes waiting for their clients now, in all (the tessera_unsent_answer_bytes gauge). */
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

function tooManyPipelined(): AppError {
  return new AppError(
    "RATE_LIMITED",
    `At most ${MAX_PIPELINED} requests may wait for their answers on one connection; wait for some first.`,
    { retryAfter: 1, details: { reason: "TOO_MANY_REQUESTS_WAITING", limit: MAX_PIPELINED } },
  );
}
