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
import { closingAnswer } from "./http/clientErrors.ts";

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
 * Operations in flight from one client address, over all its sockets. Each live operation keeps
 * its plan; a subscription of a document of its own costs some 100 KiB, and 50 sockets of 100
 * distinct subscriptions each (5,000) filled the 256 MiB heap. 500 (ten a socket, on average) bounds
 * one address at about 50 MiB.
 */
export const MAX_OPERATIONS_PER_ADDRESS = 500;

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
  /** The id of the operation it started, once counted. */
  id?: string;
  /** A subscription whose event stream is running: a `complete` ends it at once, so frees its place. */
  streaming?: boolean;
  /** Refused over the cap: its error is owed to the client until its handling settles. */
  refused?: boolean;
  /** Holding one of the places of the operations in progress (src/platform/http/graphqlAdmission.ts). */
  inProgress?: boolean;
  /** A subscription's plan, counted in LivePlans until the subscription is released. */
  plan?: { plan: object; weight: number };
}

/** The per-socket state of the operation cap, carried in graphql-ws's `ctx.extra`. */
export interface SocketExtra {
  socket: WebSocket;
  request: IncomingMessage;
  /** The client address its operations count against (MAX_OPERATIONS_PER_ADDRESS). */
  address: string;
  operations: {
    inFlight: number;
    /** The counted operation behind each id, until it is released (its `complete` or its end). */
    counted: Map<string, MessageAdmission>;
    refusedSinceLastEnd: number;
    /** Refusals whose error has not been sent yet. */
    refusalsOwed: number;
    /** Past MAX_REFUSALS_PER_SOCKET: no new message is handled, and the socket closes with 4429 once none is owed. */
    flooded: boolean;
  };
}

/** The refusal of an operation over MAX_OPERATIONS_PER_SOCKET (masked to its code by maskError). */
export function tooManyOperations(perAddress = false): GraphQLError {
  const limit = perAddress ? MAX_OPERATIONS_PER_ADDRESS : MAX_OPERATIONS_PER_SOCKET;
  const message =
    `At most ${limit} operations may be in flight ${perAddress ? "from one client address" : "on one socket"}; ` +
    "complete some first.";
  const details = { reason: "TOO_MANY_OPERATIONS", limit };
  return new GraphQLError(message, { originalError: new AppError("RATE_LIMITED", message, { details }) });
}

/** The refusal of a subscription without a signed-in caller (masked to its code by maskError). */
export function signInToSubscribe(): GraphQLError {
  const message = "Sign in to subscribe.";
  return new GraphQLError(message, { originalError: new AppError("UNAUTHENTICATED", message) });
}

/** Answers an upgrade request with an HTTP error, in the error envelope, instead of switching protocols. */
export function refuseUpgrade(socket: Duplex, error: AppError, headers: Readonly<Record<string, string>> = {}): void {
  socket.on("error", () => {});
  socket.end(closingAnswer(error, headers), () => socket.destroy());
}

/** Too many sockets from one client address (429, with Retry-After). */
export function tooManySockets(): AppError {
  const message = `At most ${MAX_SOCKETS_PER_ADDRESS} WebSockets per client address.`;
  return new AppError("RATE_LIMITED", message, {
    retryAfter: UPGRADE_RETRY_AFTER_S,
    details: { reason: "TOO_MANY_SOCKETS", limit: MAX_SOCKETS_PER_ADDRESS },
  });
}

/**
 * What the `ws` package refuses in a handshake (its `wsClientError`, by its message): a method other
 * than GET is 405 with `Allow: GET`; a missing or bad `Sec-WebSocket-Key`, `-Version`, `-Protocol`
 * or `-Extensions` is 400 VALIDATION_FAILED (MALFORMED_HANDSHAKE), naming the header.
 */
export function refuseHandshake(socket: Duplex, error: Error): void {
  if (error.message === "Invalid HTTP method") {
    refuseUpgrade(socket, new AppError("METHOD_NOT_ALLOWED", "A WebSocket handshake is a GET."), { Allow: "GET" });
    return;
  }
  const refusal = new AppError("VALIDATION_FAILED", `${error.message}.`, {
    details: { reason: "MALFORMED_HANDSHAKE" },
  });
  const versions: Record<string, string> = error.message.includes("Sec-WebSocket-Version")
    ? { "Sec-WebSocket-Version": "13, 8" }
    : {};
  refuseUpgrade(socket, refusal, versions);
}

/** An upgrade that arrives while the server shuts down (503, with Retry-After). */
export function shuttingDown(): AppError {
  return new AppError("SERVICE_UNAVAILABLE", "The server is shutting down.", { retryAfter: UPGRADE_RETRY_AFTER_S });
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

/**
 * Field-plans (see planWeight) that the live subscriptions of one client address may hold in plans
 * of their own. A running subscription keeps its plan, outside the plan cache's budget;
 * subscriptions holding one plan (one document, with the same values of any variables that decide
 * the plan) count it once, so a client's handful of documents of a few dozen fields fits many times
 * over. A field-plan is up to about 24 KiB of heap (measured: 27 distinct documents of 184 fields
 * through nested relations, 122 MiB; flat fields cost about 2 KiB), so about 14 MiB for an address.
 */
export const MAX_LIVE_PLAN_WEIGHT_PER_ADDRESS = 600;

/** The same, over all client addresses: at most about 48 MiB of heap. */
export const MAX_LIVE_PLAN_WEIGHT = 2_000;

/** A subscription whose plan would take its address's (or the server's) live plans past their budget. */
export function tooManyLiveFields(perServer: boolean, weight: number, used: number): GraphQLError {
  const limit = perServer ? MAX_LIVE_PLAN_WEIGHT : MAX_LIVE_PLAN_WEIGHT_PER_ADDRESS;
  const message =
    `The subscriptions live ${perServer ? "on this server" : "from one client address"} may hold plans ` +
    `of at most ${limit} fields in all (each plan counted once, plus two a plan); ${used} are held, ` +
    `and this one has ${weight}: complete some, or subscribe with a document already in use.`;
  const details = { reason: "TOO_MANY_SUBSCRIBED_FIELDS", limit, weight, used };
  return new GraphQLError(message, { originalError: new AppError("RATE_LIMITED", message, { details }) });
}

/** The plans live subscriptions hold (each counted once however many hold it), per address and in all. */
export class LivePlans {
  readonly #all = new Map<object, number>();
  #weight = 0;
  readonly #byAddress = new Map<string, { uses: Map<object, number>; weight: number }>();

  /**
   * Counts one more subscription holding `plan` (of `weight`) from `address`, or answers its refusal
   * (nothing counted) when a budget would be passed.
   */
  admit(address: string, plan: object, weight: number): GraphQLError | undefined {
    const own = this.#byAddress.get(address) ?? { uses: new Map<object, number>(), weight: 0 };
    const newHere = !own.uses.has(plan);
    const newAnywhere = !this.#all.has(plan);
    if (newHere && own.weight + weight > MAX_LIVE_PLAN_WEIGHT_PER_ADDRESS)
      return tooManyLiveFields(false, weight, own.weight);
    if (newAnywhere && this.#weight + weight > MAX_LIVE_PLAN_WEIGHT)
      return tooManyLiveFields(true, weight, this.#weight);
    own.uses.set(plan, (own.uses.get(plan) ?? 0) + 1);
    if (newHere) own.weight += weight;
    this.#byAddress.set(address, own);
    this.#all.set(plan, (this.#all.get(plan) ?? 0) + 1);
    if (newAnywhere) this.#weight += weight;
    return undefined;
  }

  /** Uncounts one subscription holding `plan` from `address` (admitted with `weight`). */
  release(address: string, plan: object, weight: number): void {
    const own = this.#byAddress.get(address);
    const here = own?.uses.get(plan);
    if (!own || here === undefined) return;
    if (here > 1) own.uses.set(plan, here - 1);
    else {
      own.uses.delete(plan);
      own.weight -= weight;
      if (own.uses.size === 0) this.#byAddress.delete(address);
    }
    const anywhere = this.#all.get(plan)!;
    if (anywhere > 1) this.#all.set(plan, anywhere - 1);
    else {
      this.#all.delete(plan);
      this.#weight -= weight;
    }
  }
}
