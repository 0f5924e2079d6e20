/**
 * GraphQL over WebSocket (graphql-ws) on the HTTP server: what grafserv's own upgrade handler does
 * (the same graphql-ws configuration, hence the same context, limits and error codes), plus the
 * one thing a graceful shutdown needs and grafserv keeps to itself — the open sockets. With
 * grafserv's handler they could only be destroyed, and clients saw 1006 (abnormal closure);
 * here each gets a close frame with a code (1001, going away) and a chance to answer it.
 * Also ours: the message cap (grafserv's maxRequestLength, as over HTTP), the client address by
 * the `trust proxy` rule, subscriptions that end with their session or token (sessionWatch), a
 * cap on the operations in flight on one socket and a cap on the sockets of one client address
 * (the limits themselves and their refusals are in websocketLimits.ts).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { isUtf8 } from "node:buffer";
import type { IncomingMessage, Server } from "node:http";
import type express from "express";
import { makeGraphQLWSConfig } from "grafserv";
import type { NodeGrafservBase } from "grafserv/node";
import { CloseCode, makeServer } from "graphql-ws";
import { isAsyncIterable } from "postgraphile/grafast";
import { type ExecutionArgs, GraphQLError, getOperationAST } from "postgraphile/graphql";
import { type WebSocket, WebSocketServer } from "ws";
import type { Caller } from "./graphql/context.ts";
import { operationPlanOf, operationWeight } from "./graphql/planCache.ts";
import type { SessionWatch } from "./auth/sessionWatch.ts";
import { countDown } from "./countDown.ts";
import { endableStream } from "./endableStream.ts";
import type { FairSlots } from "./fairSlots.ts";
import { HEAP_STRING_CHARS, MAX_UNSENT_BYTES, UnsentAnswers } from "./http/answerBudget.ts";
import { answerTooLarge, MAX_RESPONSE_BYTES, operationSlots } from "./http/graphqlAdmission.ts";
import type { WebSocketUpgradeRequest } from "./graphql/context.ts";
import { duplicateKey, escapesWellFormed } from "./http/unicode.ts";
import type { Logger } from "./logger.ts";
import {
  CLOSE_FLOODING,
  MAX_BUFFERED_BYTES,
  MAX_OPERATIONS_PER_ADDRESS,
  MAX_OPERATIONS_PER_SOCKET,
  MAX_REFUSALS_PER_SOCKET,
  MAX_SOCKETS_PER_ADDRESS,
  LivePlans,
  type MessageAdmission,
  type SocketExtra,
  keepAlive,
  refuseHandshake,
  refuseUpgrade,
  shuttingDown,
  signInToSubscribe,
  tooManyOperations,
  tooManySockets,
} from "./websocketLimits.ts";

/**
 * Why a WebSocket message cannot be handled, if it cannot: text that is not Unicode closes the
 * socket (ws itself closes a text frame that is not UTF-8 with 1007) — a binary frame that is not
 * UTF-8, which ws does not check, and JSON escaping a lone surrogate (`"\ud800"`); so does a key
 * given twice in one object (`"authorization"` in connection_init, `"query"`…), which the parser
 * reads as the last where a proxy or a log may read the first (REST's DUPLICATE_KEY).
 */
function unreadableMessage(text: string, data: unknown, isBinary: boolean): string | undefined {
  if (isBinary && !(Buffer.isBuffer(data) && isUtf8(data))) return "The message is not UTF-8.";
  if (!escapesWellFormed(text)) return "The message is not valid Unicode.";
  if (duplicateKey(text) !== undefined) return "The message gives a key twice in one object.";
  return undefined;
}

/** The id and type of a message that starts or completes an operation; undefined for any other. */
function operationOf(text: string): Operation | undefined {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return undefined; // graphql-ws closes the socket (4400)
  }
  const { id, type } = (message ?? {}) as { id?: unknown; type?: unknown };
  return typeof id === "string" && (type === "subscribe" || type === "complete") ? { id, type } : undefined;
}

/**
 * The turns of one socket's operation ids. graphql-ws gives an id back the moment the client
 * completes it, even while the completed operation is still being prepared (its context, its
 * plan); a `subscribe` reusing the id then took the id's place, and the prepared operation, finding
 * the id in use again, ran on where no `complete` — nor the socket's close — could reach it: it
 * sent every event twice under that id and held its places (the socket's and the address's) for
 * as long as it lived. So the messages of an id are handed over in order, and after a `complete`
 * the id's next message waits until graphql-ws is done with the completed operation. While nothing
 * waits, a message is handed over at once; one `subscribe` after another without a `complete`
 * still closes the socket (4409). At most `maxWaiting` messages wait on one socket.
 */
function operationTurns(maxWaiting: number) {
  /** The handling of each id's latest `subscribe`, until it ends. */
  const handling = new Map<string, Promise<void>>();
  /** What an id's next message waits for, while something does. */
  const queues = new Map<string, Promise<void>>();
  let waiting = 0;
  const forgetWhenDone = (map: Map<string, Promise<void>>, id: string, promise: Promise<void>) =>
    void promise.then(() => {
      if (map.get(id) === promise) map.delete(id);
    });
  /** Hands one message over; answers what the id's next message must wait for, if anything. */
  const step = (operation: Operation, hand: () => Promise<void> | undefined): Promise<void> | undefined => {
    const handled = hand();
    if (!handled) return undefined;
    if (operation.type === "complete") return handling.get(operation.id);
    handling.set(operation.id, handled);
    forgetWhenDone(handling, operation.id, handled);
    return undefined;
  };
  return {
    /**
     * Hands the message over now, or once the id's earlier messages have had their turn; `hand`
     * answers the handling (a promise that never rejects), or undefined when it was not handed.
     * False when too many messages wait already (nothing is done).
     */
    take(operation: Operation, hand: () => Promise<void> | undefined): boolean {
      const { id } = operation;
      const before = queues.get(id);
      if (!before) {
        const gate = step(operation, hand);
        if (gate) {
          queues.set(id, gate);
          forgetWhenDone(queues, id, gate);
        }
        return true;
      }
      if (waiting >= maxWaiting) return false;
      waiting += 1;
      const after = before.then(async () => {
        waiting -= 1;
        const gate = step(operation, hand);
        if (gate) await gate;
      });
      queues.set(id, after);
      forgetWhenDone(queues, id, after);
      return true;
    },
  };
}

type Operation = { id: string; type: "subscribe" | "complete" };

/**
 * Bytes of one socket's frames waiting for their turn, past which the socket is not read until they
 * are handled (TCP then holds the client back, as it does a client sending HTTP requests faster
 * than they are answered). Ten frames of the largest size.
 */
export const MAX_WAITING_FRAME_BYTES = 1024 * 1024;

/**
 * One socket's frames, handled one per turn of the event loop, in order. Frames that arrive
 * together (one read of the socket can bring hundreds) were all handled in that read's callback:
 * every operation parsed, validated and planned before the process read anything else, so one
 * client sending documents without waiting — anonymous ones too — kept every other request, `/ready`
 * and the worker's database connections waiting for seconds. Now each socket with frames waiting
 * takes one turn of the loop per frame, among everything else the process has to do; past
 * MAX_WAITING_FRAME_BYTES the socket is paused.
 */
export function pacedFrames(ws: WebSocket) {
  const waiting: Array<{ bytes: number; handle: () => void }> = [];
  let bytes = 0;
  let scheduled = false;
  const next = () => {
    scheduled = false;
    const frame = waiting.shift();
    if (!frame) return;
    bytes -= frame.bytes;
    if (ws.isPaused && bytes <= MAX_WAITING_FRAME_BYTES) ws.resume();
    if (waiting.length > 0) {
      scheduled = true;
      setImmediate(next);
    }
    frame.handle();
  };
  return {
    push(data: WebSocket.RawData, handle: () => void): void {
      const size = Array.isArray(data) ? data.reduce((sum, part) => sum + part.length, 0) : data.byteLength;
      waiting.push({ bytes: size, handle });
      bytes += size;
      if (bytes > MAX_WAITING_FRAME_BYTES && !ws.isPaused) ws.pause();
      if (!scheduled) {
        scheduled = true;
        setImmediate(next);
      }
    },
  };
}

export interface GraphqlWebSockets {
  /**
   * Refuses new upgrades, sends every open socket a close frame and waits for the closing
   * handshakes, at most `timeoutMs`; sockets still open then are terminated.
   */
  closeAll(code: number, reason: string, timeoutMs: number): Promise<void>;
  /** Sockets open right now (the tessera_websocket_connections gauge). */
  openCount(): number;
}

export interface GraphqlWebSocketOptions {
  /** The client address of an upgrade request, by the HTTP side's rule (see expressClientAddress). */
  clientAddress?: (req: IncomingMessage) => string | undefined;
  /** Ends subscriptions whose session or token has ended (src/platform/auth/sessionWatch.ts). */
  sessionWatch?: SessionWatch;
  /** Places of the operations in progress in the process, shared with HTTP (src/platform/http/graphqlAdmission.ts). */
  operationSlots?: FairSlots;
  /** Answers waiting for their clients in the process, shared with HTTP (ibid.). */
  unsentAnswers?: UnsentAnswers;
}

/** How long a new socket may take to send connection_init (the limit per client address still applies). */
const CONNECTION_INIT_WAIT_MS = 10_000;

/** grafserv's default: a ping every 12 s, and a socket that has not answered the last one is dead. */
const DEFAULT_KEEPALIVE_MS = 12_000;

/**
 * A message over MAX_RESPONSE_BYTES (a result, as over HTTP) is replaced by a `next` carrying the
 * error, for the same id: ten sockets each sent one 29.5 MB result and left it unread, and the
 * heap filled. graphql-ws writes `{"id":…` first, so the id is read without parsing the message.
 */
function withinAnswerLimit(data: string): string {
  // A character is at most 3 bytes: shorter text cannot be over the limit.
  if (data.length <= MAX_RESPONSE_BYTES / 3) return data;
  const bytes = Buffer.byteLength(data);
  if (bytes <= MAX_RESPONSE_BYTES) return data;
  const id = /^\{"id":("(?:[^"\\]|\\.)*")/.exec(data)?.[1];
  if (id === undefined) return data;
  return JSON.stringify({ id: JSON.parse(id) as string, type: "next", payload: { errors: [answerTooLarge(bytes)] } });
}

/** The answer to an operation whose socket closed while it waited for its place (sent to no one). */
function socketClosed(): GraphQLError {
  return new GraphQLError("The socket closed.");
}

/**
 * Whether prepared arguments are a subscription without a signed-in caller. Every subscription's
 * topic is its caller's, so such a one is refused before Grafast plans it: planned, a flood of
 * distinct documents cost the process their plans only to be refused one by one.
 */
function anonymousSubscription(args: ExecutionArgs): boolean {
  if (getOperationAST(args.document, args.operationName)?.operation !== "subscription") return false;
  return (args.contextValue as { caller?: Caller } | undefined)?.caller?.claims === undefined;
}

export function attachGraphqlWebSockets(
  serv: NodeGrafservBase,
  httpServer: Server,
  logger: Logger,
  options: GraphqlWebSocketOptions = {},
): GraphqlWebSockets {
  const base = makeGraphQLWSConfig(serv);
  // The message a graphql-ws `onSubscribe` runs for: handle(message) settles only once that
  // operation has sent its last message, so the count is released exactly then (see onMessage).
  const admission = new AsyncLocalStorage<MessageAdmission>();
  /** Operations in flight per client address, over all its sockets. */
  const operationsByAddress = new Map<string, number>();
  const livePlans = new LivePlans();
  const slots = options.operationSlots ?? operationSlots();
  const unsent = options.unsentAnswers ?? new UnsentAnswers(MAX_UNSENT_BYTES, logger);
  /** Gives an operation's place back, once: its result is ready, its stream started, or it ended. */
  const freePlace = (message: MessageAdmission | undefined) => {
    if (!message?.inProgress) return;
    message.inProgress = false;
    slots.release();
  };
  /**
   * A subscription, once Grafast has planned it, counts the plan it holds against its address's and
   * the server's budgets (LivePlans), or answers its refusal. Subscriptions holding one plan count it
   * once; variables that decide the plan (`@include(if: $v)`) make plans of their own.
   */
  const countPlan = (address: string, message: MessageAdmission, args: ExecutionArgs): GraphQLError | undefined => {
    const operation = getOperationAST(args.document, args.operationName);
    if (operation?.operation !== "subscription") return undefined;
    const weight = operationWeight(args.document, operation);
    const plan = operationPlanOf(args.contextValue) ?? operation;
    const refusal = livePlans.admit(address, plan, weight);
    if (!refusal) message.plan = { plan, weight };
    return refusal;
  };
  const graphqlWs = makeServer({
    ...base,
    // A query's or a mutation's result is ready: its place goes to the next operation now, not once
    // the client has read the result.
    onNext(ctx, id, payload, args, result) {
      freePlace(admission.getStore());
      return base.onNext?.(ctx, id, payload, args, result);
    },
    // graphql-ws closes a socket with 4408 when connection_init has not arrived this long after the
    // upgrade; its 3 s default was seen expiring on a saturated machine (two test suites on two cores).
    connectionInitWaitTimeout: CONNECTION_INIT_WAIT_MS,
    // Before grafserv parses anything: over the cap, the operation is refused with one `error`.
    async onSubscribe(ctx, id, payload) {
      const operations = (ctx.extra as SocketExtra).operations;
      const message = admission.getStore();
      if (!message) throw new Error("an operation started outside the handling of its message");
      const { address } = ctx.extra as SocketExtra;
      const fromAddress = operationsByAddress.get(address) ?? 0;
      const perSocket = operations.inFlight >= MAX_OPERATIONS_PER_SOCKET;
      if (perSocket || fromAddress >= MAX_OPERATIONS_PER_ADDRESS) {
        operations.refusedSinceLastEnd += 1;
        // Past the refusals a socket may have, it is flooding: it is closed with 4429 once the errors
        // it is owed (this one's included) have been sent (see onMessage).
        if (operations.refusedSinceLastEnd > MAX_REFUSALS_PER_SOCKET) operations.flooded = true;
        operations.refusalsOwed += 1;
        message.refused = true;
        return [tooManyOperations(!perSocket)];
      }
      operations.inFlight += 1;
      operationsByAddress.set(address, fromAddress + 1);
      message.counted = true;
      message.id = id;
      operations.counted.set(id, message);
      // Parsed, validated, its caller's session read, planned and run among the operations in progress.
      await slots.acquire(address);
      message.inProgress = true;
      // Its socket closed while it waited: nobody is left to answer, and its work would be wasted.
      if ((ctx.extra as SocketExtra).socket.readyState !== (ctx.extra as SocketExtra).socket.OPEN) {
        freePlace(message);
        return [socketClosed()];
      }
      let prepared: Awaited<ReturnType<NonNullable<typeof base.onSubscribe>>>;
      try {
        prepared = await base.onSubscribe!(ctx, id, payload);
      } catch (error) {
        freePlace(message);
        throw error;
      }
      if (!prepared || !("document" in prepared)) freePlace(message);
      else if (anonymousSubscription(prepared)) {
        freePlace(message);
        return [signInToSubscribe()];
      }
      return prepared;
    },
    // A subscription of a signed-in caller runs while its session is live and its token unexpired.
    onOperation(ctx, _id, _payload, args, result) {
      const message = admission.getStore();
      // A subscription's stream has started: its plan is counted by LivePlans from here.
      if (isAsyncIterable(result)) freePlace(message);
      if (message && isAsyncIterable(result)) {
        const refusal = countPlan((ctx.extra as SocketExtra).address, message, args);
        if (refusal) {
          // Refused: its stream is ended before it runs, and the client gets one result with the error.
          void (result as AsyncGenerator).return?.(undefined);
          return { errors: [refusal] };
        }
        message.streaming = true;
      }
      const claims = (args.contextValue as { caller?: Caller } | undefined)?.caller?.claims;
      if (!options.sessionWatch || !claims || !isAsyncIterable(result)) return undefined;
      const watch = options.sessionWatch;
      let untrack = () => {};
      const stream = endableStream(result, () => untrack());
      untrack = watch.track({ sessionId: claims.sid, tenantId: claims.tid, exp: claims.exp, end: stream.end });
      return stream.iterator;
    },
  });
  // The same cap on a message as grafserv puts on an HTTP body (maxRequestLength, 100 kB by
  // default): a bigger frame closes the socket with 1009 (message too big) before it is buffered.
  const maxPayload = serv.dynamicOptions.maxRequestLength;
  const sockets = new WebSocketServer({ noServer: true, maxPayload });
  sockets.on("wsClientError", (error, socket) => refuseHandshake(socket, error));
  const keepaliveMs = serv.getPreset().grafserv?.websocketKeepalive ?? DEFAULT_KEEPALIVE_MS;
  let closing = false;
  /** Open (or opening) sockets per client address. */
  const socketsByAddress = new Map<string, number>();

  httpServer.on("upgrade", (req, socket, head) => {
    if (!serv.shouldHandleUpgrade(req, socket, head)) {
      socket.destroy();
      return;
    }
    if (closing) {
      refuseUpgrade(socket, shuttingDown());
      return;
    }
    // Who the client is, decided now by the HTTP side's `trust proxy` rule; the GraphQL context
    // records it as caller.ip (src/platform/graphql/context.ts).
    const clientIp = options.clientAddress?.(req) ?? req.socket.remoteAddress;
    (req as IncomingMessage & WebSocketUpgradeRequest).clientIp = clientIp;
    // Counted from the upgrade request until its TCP connection closes, however the handshake ends.
    const address = clientIp ?? "unknown";
    const open = socketsByAddress.get(address) ?? 0;
    if (open >= MAX_SOCKETS_PER_ADDRESS) {
      refuseUpgrade(socket, tooManySockets());
      return;
    }
    socketsByAddress.set(address, open + 1);
    socket.once("close", () => {
      countDown(socketsByAddress, address);
    });
    sockets.handleUpgrade(req, socket, head, (ws) => {
      // A protocol error from a client must not become an unhandled 'error' event.
      ws.on("error", (error) => logger.debug({ err: error }, "websocket error"));
      keepAlive(ws, keepaliveMs);
      const operations = {
        inFlight: 0,
        counted: new Map<string, MessageAdmission>(),
        refusedSinceLastEnd: 0,
        refusalsOwed: 0,
        flooded: false,
      };
      /** Frees an admitted operation's places, once: at the client's `complete`, or when it has ended. */
      const release = (message: MessageAdmission) => {
        freePlace(message);
        if (message.plan) {
          livePlans.release(address, message.plan.plan, message.plan.weight);
          message.plan = undefined;
        }
        if (!message.counted) return;
        message.counted = false;
        if (operations.counted.get(message.id!) === message) operations.counted.delete(message.id!);
        operations.inFlight -= 1;
        operations.refusedSinceLastEnd = 0;
        countDown(operationsByAddress, address);
      };
      const turns = operationTurns(MAX_OPERATIONS_PER_SOCKET);
      const extra: SocketExtra = { socket: ws, request: req, address, operations };
      const closed = graphqlWs.opened(
        {
          protocol: ws.protocol,
          send: (data) =>
            new Promise<void>((resolve) => {
              // Closed meanwhile (an event on its way as the client left): there is no one to tell.
              if (ws.readyState !== ws.OPEN) return resolve();
              if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
                // A close frame would queue behind the unread data; the connection is cut instead.
                logger.debug({ buffered: ws.bufferedAmount }, "websocket client does not read; terminated");
                ws.terminate();
                resolve();
                return;
              }
              // Counted from now until it has gone to the kernel, against the process's bytes of
              // unread answers (HTTP's too): past them, the connection waiting longest is cut.
              // A large one as bytes: ws writes a string as it is, and a string waiting in the
              // socket's buffer stays on the JavaScript heap (two bytes a character once any is not
              // Latin-1). Small ones, most of them, go as they are (a copy each had cost a flood
              // of small answers a fifth of its speed).
              const text = withinAnswerLimit(data);
              const message = text.length > HEAP_STRING_CHARS ? Buffer.from(text) : text;
              const bytes = typeof message === "string" ? Buffer.byteLength(message) : message.length;
              unsent.add(ws, bytes, () => ws.terminate());
              // It was this one that had waited longest.
              if (ws.readyState !== ws.OPEN) return resolve();
              // A write that fails is a connection that broke (a reset, a close without a close
              // frame) while events were written: the client's doing, not a server fault. The
              // socket is ended; its close ends its operations.
              ws.send(message, { binary: false }, (error) => {
                unsent.sent(ws, bytes);
                if (error) {
                  logger.debug({ err: error }, "websocket write failed; the connection is gone");
                  ws.terminate();
                }
              });
              // Settled once the message is queued (a Buffer of ws's), not once it has gone out:
              // graphql-ws keeps the operation's result alive until then, and for clients that do
              // not read, those results — two to three times their bytes on the heap — filled it
              // while the unsent bytes were still within their budget. The caps above bound what
              // is queued.
              resolve();
            }),
          close: (code, reason) => ws.close(code, reason),
          onMessage: (handle) => {
            /** Hands a message to graphql-ws; settles (never rejects) once its handling has ended. */
            const hand = async (text: string, operation?: Operation): Promise<void> => {
              const message: MessageAdmission = { counted: false };
              // A running subscription that the client completes frees its places now, not once
              // graphql-ws has wound it down (a moment later). A query, or an operation still being
              // prepared, keeps them until it ends: its work goes on whatever the client says.
              if (operation?.type === "complete") {
                const completed = operations.counted.get(operation.id);
                if (completed?.streaming) release(completed);
              }
              try {
                await admission.run(message, () => handle(text));
              } catch (error) {
                // As grafserv does; a close reason over 123 bytes would throw, hence the cut and the guard.
                try {
                  ws.close(CloseCode.InternalServerError, (error as Error).message.slice(0, 60));
                } catch {
                  ws.terminate();
                }
              } finally {
                // The operation this message started (if it was admitted and not completed) has ended.
                release(message);
                // A refusal's error has been sent: a flooding socket closes after the last one owed.
                if (message.refused) {
                  operations.refusalsOwed -= 1;
                  if (operations.flooded && operations.refusalsOwed === 0 && ws.readyState === ws.OPEN)
                    ws.close(CLOSE_FLOODING, "Too many operations in flight");
                }
              }
            };
            // Frames that arrive once a flood is seen, or after the close began, are not handled.
            const open = () => ws.readyState === ws.OPEN && !operations.flooded;
            const paced = pacedFrames(ws);
            ws.on("message", (data, isBinary) => paced.push(data, () => handleFrame(data, isBinary)));
            const handleFrame = (data: WebSocket.RawData, isBinary: boolean) => {
              if (!open()) return;
              const text = String(data);
              let unreadable: string | undefined;
              try {
                unreadable = unreadableMessage(text, data, isBinary);
              } catch {
                // A check that fails on some text must close this socket, not end the process.
                unreadable = "The message cannot be read.";
              }
              if (unreadable !== undefined) return ws.close(CloseCode.BadRequest, unreadable);
              const operation = operationOf(text);
              if (!operation) return void hand(text);
              const taken = turns.take(operation, () => (open() ? hand(text, operation) : undefined));
              // Messages held for their turn are not operations yet: they have a cap of their own.
              if (!taken) ws.close(CLOSE_FLOODING, "Too many operations in flight");
            };
          },
        },
        extra,
      );
      ws.once("close", (code, reason) => {
        unsent.remove(ws);
        void closed(code, reason.toString());
      });
    });
  });

  return {
    openCount: () => sockets.clients.size,
    async closeAll(code, reason, timeoutMs) {
      closing = true;
      const open = [...sockets.clients];
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(
          open.map(
            (ws) =>
              new Promise<void>((resolve) => {
                if (ws.readyState === ws.CLOSED) return resolve();
                ws.once("close", () => resolve());
                ws.close(code, reason);
              }),
          ),
        ),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]);
      clearTimeout(timer);
      for (const ws of sockets.clients) ws.terminate();
      await new Promise<void>((resolve) => sockets.close(() => resolve()));
    },
  };
}

/**
 * The address Express gives as `req.ip` for this request: its compiled `trust proxy` function
 * applied to the socket address and X-Forwarded-For (Express's own getter, on a view of the
 * upgrade request), so REST, GraphQL over HTTP and WebSocket agree on who the client is.
 */
export function expressClientAddress(app: express.Express): (req: IncomingMessage) => string | undefined {
  return (req) => {
    const view = Object.create(app.request, {
      headers: { value: req.headers },
      socket: { value: req.socket },
    }) as express.Request;
    return view.ip;
  };
}
