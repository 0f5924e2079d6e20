/**
 * GraphQL over WebSocket (graphql-ws) on the HTTP server: what grafserv's own upgrade handler does
 * (the same graphql-ws configuration, hence the same context, limits and error codes), plus the
 * one thing a graceful shutdown needs and grafserv keeps to itself — the open sockets. With
 * grafserv's handler they could only be destroyed, and clients saw 1006 (abnormal closure);
 * here each gets a close frame with a code (1001, going away) and a chance to answer it.
 */
import type { Server } from "node:http";
import { makeGraphQLWSConfig } from "grafserv";
import type { NodeGrafservBase } from "grafserv/node";
import { CloseCode, makeServer } from "graphql-ws";
import { WebSocketServer, type WebSocket } from "ws";
import type { Logger } from "./logger.ts";

export interface GraphqlWebSockets {
  /**
   * Refuses new upgrades, sends every open socket a close frame and waits for the closing
   * handshakes, at most `timeoutMs`; sockets still open then are terminated.
   */
  closeAll(code: number, reason: string, timeoutMs: number): Promise<void>;
}

/** grafserv's default: a ping every 12 s, and a socket that has not answered the last one is dead. */
const DEFAULT_KEEPALIVE_MS = 12_000;

export function attachGraphqlWebSockets(serv: NodeGrafservBase, httpServer: Server, logger: Logger): GraphqlWebSockets {
  const graphqlWs = makeServer(makeGraphQLWSConfig(serv));
  const sockets = new WebSocketServer({ noServer: true });
  const keepaliveMs = serv.getPreset().grafserv?.websocketKeepalive ?? DEFAULT_KEEPALIVE_MS;
  let closing = false;

  httpServer.on("upgrade", (req, socket, head) => {
    if (closing || !serv.shouldHandleUpgrade(req, socket, head)) {
      socket.destroy();
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => {
      // A protocol error from a client must not become an unhandled 'error' event.
      ws.on("error", (error) => logger.debug({ err: error }, "websocket error"));
      keepAlive(ws, keepaliveMs);
      const closed = graphqlWs.opened(
        {
          protocol: ws.protocol,
          send: (data) => new Promise<void>((resolve, reject) => ws.send(data, (error) => (error ? reject(error) : resolve()))),
          close: (code, reason) => ws.close(code, reason),
          onMessage: (handle) =>
            ws.on("message", async (data) => {
              try {
                await handle(String(data));
              } catch (error) {
                // As grafserv does; a close reason over 123 bytes would throw, hence the cut and the guard.
                try {
                  ws.close(CloseCode.InternalServerError, (error as Error).message.slice(0, 60));
                } catch {
                  ws.terminate();
                }
              }
            }),
        },
        { socket: ws, request: req },
      );
      ws.once("close", (code, reason) => void closed(code, reason.toString()));
    });
  });

  return {
    async closeAll(code, reason, timeoutMs) {
      closing = true;
      const open = [...sockets.clients];
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(open.map((ws) => new Promise<void>((resolve) => {
          if (ws.readyState === ws.CLOSED) return resolve();
          ws.once("close", () => resolve());
          ws.close(code, reason);
        }))),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]);
      clearTimeout(timer);
      for (const ws of sockets.clients) ws.terminate();
      await new Promise<void>((resolve) => sockets.close(() => resolve()));
    },
  };
}

/** Pings every `intervalMs`; a socket that has not answered the previous ping is terminated. */
function keepAlive(ws: WebSocket, intervalMs: number): void {
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
