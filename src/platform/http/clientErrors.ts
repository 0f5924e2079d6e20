/**
 * Requests Node's HTTP parser refuses before any handler of ours runs — headers over its 16 kB,
 * bytes that are not HTTP, a request that does not arrive in time — answered in the error table's
 * envelope instead of Node's bare status line. There is no request or response object here: the
 * answer is written to the socket, which then closes (Node answers these the same way).
 */
import { type Server, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { AppError, errorEnvelope } from "../errors.ts";

/** What Node's parser says (`error.code`) → our answer; anything else is a malformed request. */
const ANSWERS: Readonly<Record<string, () => AppError>> = {
  HPE_HEADER_OVERFLOW: () => new AppError("HEADERS_TOO_LARGE"),
  HPE_CHUNK_EXTENSIONS_OVERFLOW: () => new AppError("PAYLOAD_TOO_LARGE", "The chunk extensions are too large."),
  ERR_HTTP_REQUEST_TIMEOUT: () => new AppError("REQUEST_TIMEOUT"),
};

export function answerClientErrors(server: Server): void {
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex & { bytesWritten?: number }) => {
    // Nothing can be answered on a connection that is gone or has an answer under way.
    if (error.code === "ECONNRESET" || !socket.writable || (socket.bytesWritten ?? 0) > 0) {
      socket.destroy();
      return;
    }
    const answer =
      ANSWERS[error.code ?? ""]?.() ??
      new AppError("VALIDATION_FAILED", "The request is not valid HTTP.", { details: { reason: "MALFORMED_HTTP" } });
    const body = JSON.stringify(errorEnvelope(answer));
    socket.end(
      `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\n` +
        "Content-Type: application/json; charset=utf-8\r\n" +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        "Connection: close\r\n\r\n" +
        body,
      () => socket.destroy(),
    );
  });
}
