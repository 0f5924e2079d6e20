/**
 * The limits of GraphQL over WebSocket (src/platform/websockets.ts) and their refusals: operations
 * in flight per socket and the flood guard, sockets per client address, bytes queued for a client
 * that does not read, and the keepalive that ends sockets which no longer answer.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { GraphQLError } from "postgraphile/graphql";
import type { WebSocket } from "ws";
import { AppError } from "./errors.ts";

/**
 * Operations (queries, mutations and subscriptions alike) one socket may have in flight: from its
 * `subscribe` message until its last message is sent (a subscription: until it ends, errors or the
 * client completes it). A client has a handful of live subscriptions and a few queries at a time;
 * 100 leaves it wide room while bounding what one socket can make the server hold (a live
 * subscription costs some 20 kB; a query, a database connection's turn). An operation over the cap
 * is answered at once with an `error` message for its id, code RATE_LIMITED, and costs nothing more.
 */
export const MAX_OPERATIONS_PER_SOCKET = 100;

/**
 * Refusals a socket may collect while none of its operations ends: a client that keeps sending
 * past the cap is flooding, not waiting its turn. One more closes the socket with 4429 (the
 * graphql-ws family of 44xx codes; clients reconnect with backoff), so a flood costs the server at
 * most this many cheap refusals per socket instead of one per message sent.
 */
export const MAX_REFUSALS_PER_SOCKET = 10 * MAX_OPERATIONS_PER_SOCKET;

/** The close code of a socket that kept sending past the cap. */
export const CLOSE_FLOODING = 4429;

/**
 * Open WebSockets per client address (by the `trust proxy` rule, as over HTTP). A browser tab
 * holds one; 50 allows many tabs and users behind one NAT while bounding what one address can
 * hold open (50 × 100 operations). A further upgrade is answered HTTP 429 and not upgraded.
 */
export const MAX_SOCKETS_PER_ADDRESS = 50;

/**
 * Bytes queued for a client that does not read (a slow or stalled consumer). Past this the socket is
 * terminated: what the server would otherwise hold for it grows with every result and event.
 */
export const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/** Seconds a refused upgrade is told to wait (Retry-After). */
const UPGRADE_RETRY_AFTER_S = 5;

/** What the message being handled records about itself: whether it started a counted operation. */
export interface MessageAdmission {
  counted: boolean;
  /** Refused over the cap: its error is owed to the client until its handling settles. */
  refused?: boolean;
}

/** The per-socket state of the operation cap, carried in graphql-ws's `ctx.extra`. */
export interface SocketExtra {
  socket: WebSocket;
  request: IncomingMessage;
  operations: {
    inFlight: number;
    refusedSinceLastEnd: number;
    /** Refusals whose error has not been sent yet. */
    refusalsOwed: number;
    /** Past MAX_REFUSALS_PER_SOCKET: no new message is handled, and the socket closes with 4429 once none is owed. */
    flooded: boolean;
  };
}

/** The refusal of an operation over MAX_OPERATIONS_PER_SOCKET (masked to its code by maskError). */
export function tooManyOperations(): GraphQLError {
  const message =
    `At most ${MAX_OPERATIONS_PER_SOCKET} operations may be in flight on one socket; ` + "complete some first.";
  const details = { reason: "TOO_MANY_OPERATIONS", limit: MAX_OPERATIONS_PER_SOCKET };
  return new GraphQLError(message, { originalError: new AppError("RATE_LIMITED", message, { details }) });
}

/** Answers an upgrade request with an HTTP error instead of switching protocols. */
export function refuseUpgrade(socket: Duplex, status: number, statusText: string, body: string): void {
  socket.on("error", () => {});
  socket.end(
    `HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Retry-After: ${UPGRADE_RETRY_AFTER_S}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}

/** Pings every `intervalMs`; a socket that has not answered the previous ping is terminated. */
export function keepAlive(ws: WebSocket, intervalMs: number): void {
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) return;
  let answered = true;
  ws.on("pong", () => (answered = true));
  const timer = setInterval(() => {
    if (!answered) {
      ws.terminate();
      return;
    }
    answered = false;
    ws.ping();
  }, intervalMs);
  timer.unref();
  ws.once("close", () => clearInterval(timer));
}
