/**
 * What Node's HTTP server refuses before any handler of ours runs — headers over its limits, bytes
 * that are not HTTP, a request that does not arrive in time, an HTTP/1.1 request without `Host`, an
 * `Expect` it cannot meet, a `CONNECT` — answered in the error table's envelope instead of Node's
 * bare status line or a silent close. A refusal that ends the connection waits for the answers of
 * the requests before it on that connection (pipelined or kept alive), so each of those still gets
 * its own answer, in order.
 */
import { type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { AppError, errorEnvelope } from "../errors.ts";

/** What Node's parser says (`error.code`) → our answer; anything else is a malformed request. */
const ANSWERS: Readonly<Record<string, () => AppError>> = {
  HPE_HEADER_OVERFLOW: () => new AppError("HEADERS_TOO_LARGE"),
  HPE_CHUNK_EXTENSIONS_OVERFLOW: () => new AppError("PAYLOAD_TOO_LARGE", "The chunk extensions are too large."),
  ERR_HTTP_REQUEST_TIMEOUT: () => new AppError("REQUEST_TIMEOUT"),
};

const malformed = (message = "The request is not valid HTTP.") =>
  new AppError("VALIDATION_FAILED", message, { details: { reason: "MALFORMED_HTTP" } });

/** The whole answer, as bytes for a socket: the envelope, and the connection closes after it. */
function closingAnswer(error: AppError): string {
  const body = JSON.stringify(errorEnvelope(error));
  return (
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}\r\n` +
    "Content-Type: application/json; charset=utf-8\r\n" +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    "Connection: close\r\n\r\n" +
    body
  );
}

/**
 * Installs the answers on `server` (made with `requireHostHeader: false`) and returns the check its
 * request listener runs first: true when the request was refused (an HTTP/1.1 request without
 * `Host`) and no route may see it.
 */
export function answerClientErrors(server: Server): (req: IncomingMessage, res: ServerResponse) => boolean {
  // Each connection's latest response: answers go out in request order, so once it is finished,
  // every answer the connection owed is.
  const latest = new WeakMap<Duplex, ServerResponse>();

  const refuse = (socket: Duplex, error: AppError) => {
    const last = latest.get(socket);
    if (last && !last.req.complete) {
      // The fault is inside that request's own body, which can never be finished: the connection
      // ends now (its handler sees the request aborted), with the answer when nothing is owed
      // before it (a queued response has no socket yet).
      if (last.socket === socket && !last.headersSent && socket.writable) socket.write(closingAnswer(error));
      socket.destroy();
      return;
    }
    const write = () => (socket.writable ? socket.end(closingAnswer(error), () => socket.destroy()) : socket.destroy());
    if (last && !last.writableFinished) last.once("close", write);
    else write();
  };

  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === "ECONNRESET" || !socket.writable) socket.destroy();
    else refuse(socket, ANSWERS[error.code ?? ""]?.() ?? malformed());
  });
  server.on("connect", (_req: IncomingMessage, socket: Duplex) =>
    refuse(socket, new AppError("METHOD_NOT_ALLOWED", "CONNECT is not served here.")),
  );
  server.on("checkExpectation", (_req: IncomingMessage, res: ServerResponse) =>
    answer(res, new AppError("EXPECTATION_FAILED")),
  );

  return (req, res) => {
    latest.set(req.socket, res);
    if (req.headers.host !== undefined || req.httpVersion !== "1.1") return false;
    // RFC 9112 §3.2.
    res.shouldKeepAlive = false;
    answer(res, malformed("An HTTP/1.1 request needs a Host header."));
    return true;
  };
}

/** Answers a request Node handed over, with the envelope; nothing else will answer it. */
function answer(res: ServerResponse, error: AppError): void {
  const body = JSON.stringify(errorEnvelope(error));
  res.statusCode = error.status;
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.setHeader("Content-Length", Buffer.byteLength(body));
  res.end(body);
}
