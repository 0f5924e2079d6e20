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

/** The server must be made with `requireHostHeader: false`: a missing `Host` is refused here. */
export function answerClientErrors(server: Server): void {
  // The responses each connection still owes, in the order their requests came.
  const owed = new WeakMap<Duplex, Set<ServerResponse>>();
  server.prependListener("request", (req: IncomingMessage, res: ServerResponse) => {
    const pending = owed.get(req.socket) ?? new Set<ServerResponse>();
    owed.set(req.socket, pending.add(res));
    res.once("close", () => pending.delete(res));
    if (req.headers.host === undefined && req.httpVersion === "1.1") {
      // RFC 9112 §3.2; before any route sees it (the request listeners after this one skip it).
      res.shouldKeepAlive = false;
      answer(res, malformed("An HTTP/1.1 request needs a Host header."));
    }
  });

  const refuse = (socket: Duplex, error: AppError) => {
    const pending = [...(owed.get(socket) ?? [])];
    const write = () => (socket.writable ? socket.end(closingAnswer(error), () => socket.destroy()) : socket.destroy());
    const reading = pending.findIndex((res) => !res.req.complete);
    if (reading >= 0) {
      // The fault is inside that request's own body, which can never be finished: the connection
      // ends now (its handler sees the request aborted), with the answer when nothing is owed before it.
      if (reading === 0 && !pending[0]!.headersSent && socket.writable) socket.write(closingAnswer(error));
      socket.destroy();
      return;
    }
    const last = pending.at(-1);
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
}

/** Answers a request Node handed over, with the envelope; nothing else will answer it. */
function answer(res: ServerResponse, error: AppError): void {
  const body = JSON.stringify(errorEnvelope(error));
  res.statusCode = error.status;
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.setHeader("Content-Length", Buffer.byteLength(body));
  res.end(body);
}
