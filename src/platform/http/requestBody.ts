/**
 * Checks of a request's body made on its headers alone, before it is read.
 *
 * grafserv reads a GraphQL request's body whatever its Content-Encoding and charset say. Refuse
 * what it would misread, as the REST body parsers do (415 UNSUPPORTED_MEDIA_TYPE): a body declared
 * compressed (or in an unknown encoding), and a charset other than UTF-8. A proxy that decodes by
 * those headers would otherwise inspect other bytes than the server parses. A declared length over
 * grafserv's cap is refused at once too (413), not after a `100 Continue` invited the body.
 */
import type { NextFunction, Request, Response } from "express";
import { AppError, payloadTooLarge } from "../errors.ts";

export function graphqlBodyGuard(path: string, maxBytes: number) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (req.path !== path || req.method !== "POST") {
      next();
      return;
    }
    // A media type is case-insensitive (RFC 9110 §8.3.1); grafserv compares it as sent.
    const type = req.headers["content-type"];
    if (type && /[A-Z]/.test(type)) req.headers["content-type"] = type.replace(/^[^;]*/, (t) => t.toLowerCase());
    next(bodyRefusal(req) ?? declaredLengthRefusal(req, maxBytes));
  };
}

/**
 * 413 PAYLOAD_TOO_LARGE for a body whose Content-Length is over `limit` bytes, before a byte of it
 * is read or a `100 Continue` invites it. A body without a length (chunked) is cut at the limit by
 * the body parser.
 */
export function declaredLengthLimit(limit: number) {
  return (req: Request, _res: Response, next: NextFunction): void => next(declaredLengthRefusal(req, limit));
}

/** PAYLOAD_TOO_LARGE when the request's Content-Length is over `limit`; undefined otherwise. */
export function declaredLengthRefusal(req: Request, limit: number): AppError | undefined {
  const length = req.headers["content-length"];
  return length !== undefined && Number(length) > limit ? payloadTooLarge(limit) : undefined;
}

function bodyRefusal(req: Request): AppError | undefined {
  const encoding = req.get("content-encoding")?.trim().toLowerCase();
  if (encoding && encoding !== "identity") {
    return new AppError("UNSUPPORTED_MEDIA_TYPE", "The request body's Content-Encoding is not supported.");
  }
  const charset = declaredCharset(req);
  return charset && !isUtf8Charset(charset) ? unsupportedCharset() : undefined;
}

/** The charset a request's Content-Type names, lower-cased; undefined when it names none. */
export function declaredCharset(req: Request): string | undefined {
  const type = req.get("content-type");
  if (type === undefined || !type.includes(";")) return undefined;
  for (const [name, value] of mediaTypeParameters(type)) if (name === "charset") return value.toLowerCase();
  return undefined;
}

/** `; name = value` of a media type, a quoted value read whole (a `;` inside it starts nothing). */
const PARAMETER = /;[ \t]*([^=;\s]+)[ \t]*=[ \t]*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;

/** A media type's parameters in order: names lower-cased, values unquoted and trimmed. */
export function* mediaTypeParameters(type: string): Generator<[name: string, value: string]> {
  for (const [, name, quoted, bare] of type.matchAll(PARAMETER)) {
    yield [name!.toLowerCase(), quoted === undefined ? bare!.trim() : quoted.replace(/\\(.)/g, "$1")];
  }
}

/** Whether a body's declared charset is UTF-8, the only one the servers read (REST and GraphQL). */
export function isUtf8Charset(charset: string): boolean {
  return /^utf-?8$/i.test(charset);
}

export function unsupportedCharset(): AppError {
  return new AppError("UNSUPPORTED_MEDIA_TYPE", "The request body's charset is not supported.");
}
