/**
 * What Node's HTTP server refuses before any handler of ours runs — headers over its limits, bytes
 * that are not HTTP, a request that does not arrive in time, a request line of another HTTP version,
 * an HTTP/1.1 request without `Host` (or with two), an `Expect` it cannot meet, a `CONNECT` —
 * answered in the error table's envelope instead of Node's bare status line or a silent close. A
 * refusal that ends the connection waits for the answers of the requests before it on that
 * connection (pipelined or kept alive), so each of those still gets its own answer, in order.
 */
import { type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { mediaTypeParameters } from "./requestBody.ts";
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
export function closingAnswer(error: AppError, headers: Readonly<Record<string, string>> = {}): string {
  const body = JSON.stringify(errorEnvelope(error));
  const retryAfter = error.retryAfter === undefined ? {} : { "Retry-After": String(error.retryAfter) };
  const extra = Object.entries({ ...retryAfter, ...headers }).map(([name, value]) => `${name}: ${value}\r\n`);
  return (
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}\r\n` +
    "Content-Type: application/json; charset=utf-8\r\n" +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    extra.join("") +
    "Connection: close\r\n\r\n" +
    body
  );
}

/**
 * Installs the answers on `server` (made with `requireHostHeader: false`) and returns the check its
 * request listener runs first: true when the request was refused (`malformation`) and no route may
 * see it.
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
    const refusal = malformation(req);
    if (!refusal) return false;
    res.shouldKeepAlive = false;
    answer(res, refusal);
    return true;
  };
}

/**
 * What Node's parser lets through but HTTP/1.x refuses: a request line without a version (read as
 * HTTP/0.9) or naming 2.0, an HTTP/1.1 request without `Host`, `Host` given twice, which two hops
 * could read as two different hosts (RFC 9112 §3.2), `Content-Type` twice (the same for the body's
 * type), and a transfer coding other than `chunked`
 * (RFC 9112 §6.1; two `Transfer-Encoding: chunked` headers name it twice).
 */
export function malformation(req: IncomingMessage): AppError | undefined {
  const version = req.httpVersion;
  if (version !== "1.1" && version !== "1.0") return malformed("Only HTTP/1.0 and HTTP/1.1 requests are served.");
  if (req.headers.host === undefined && version === "1.1") return malformed("An HTTP/1.1 request needs a Host header.");
  const raw = req.rawHeaders;
  let hosts = 0;
  let types = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === "host") hosts++;
    else if (name.length === 12 && name.toLowerCase() === "content-type") types++;
  }
  if (hosts > 1) return malformed("A request has one Host header.");
  // Node keeps the first and drops the rest; a proxy that reads the last would check another body.
  if (types > 1) return malformed("A request has one Content-Type header.");
  const twice = parameterGivenTwice(req.headers["content-type"]);
  if (twice) return malformed(`The Content-Type names its parameter ${JSON.stringify(twice)} twice.`);
  // Node's parser frames the body by a final `chunked` and ignores the codings before it, which the
  // body's reader would not undo (`gzip, chunked`) and a proxy may read otherwise (`foo, chunked`).
  const codings = req.headers["transfer-encoding"];
  return codings !== undefined && !CHUNKED_ONLY.test(codings)
    ? malformed("Only the chunked transfer coding is served.")
    : undefined;
}

const CHUNKED_ONLY = /^[ \t]*chunked[ \t]*$/i;

/**
 * The name of a parameter a media type gives twice (`charset=utf-8;charset=latin1`), cut to 40
 * characters; parameter names are case-insensitive (RFC 9110 §5.6.6). The body's readers here read
 * the first, others the last: a proxy could check other text than the server parses.
 */
function parameterGivenTwice(type: string | undefined): string | undefined {
  if (type === undefined || type.indexOf(";") === type.lastIndexOf(";")) return undefined;
  const seen = new Set<string>();
  for (const [name] of mediaTypeParameters(type)) {
    if (seen.has(name)) return name.slice(0, 40);
    seen.add(name);
  }
  return undefined;
}

/**
 * Defers `100 Continue` until the request's body is first read, instead of Node's sending it as
 * soon as the headers arrive: a request refused on its headers alone (an upload without
 * credentials) is answered without inviting its body, and Node closes the connection after that
 * answer rather than read a body it never asked for.
 */
export function continueWhenRead(server: Server): void {
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    const read = req._read;
    req._read = function (size: number) {
      req._read = read;
      if (!res.headersSent) res.writeContinue();
      return read.call(this, size);
    };
    server.emit("request", req, res);
  });
}

/** Answers a request Node handed over, with the envelope; nothing else will answer it. */
function answer(res: ServerResponse, error: AppError): void {
  const body = JSON.stringify(errorEnvelope(error));
  res.statusCode = error.status;
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.setHeader("Content-Length", Buffer.byteLength(body));
  res.end(body);
}
