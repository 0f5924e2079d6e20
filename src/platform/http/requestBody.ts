/**
 * grafserv reads a GraphQL request's body whatever its Content-Encoding and charset say. Refuse
 * what it would misread, as the REST body parsers do (415 UNSUPPORTED_MEDIA_TYPE): a body declared
 * compressed (or in an unknown encoding), and a charset other than UTF-8. A proxy that decodes by
 * those headers would otherwise inspect other bytes than the server parses.
 */
import type { NextFunction, Request, Response } from "express";
import { AppError } from "../errors.ts";

export function graphqlBodyGuard(path: string) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    next(req.path === path && req.method === "POST" ? bodyRefusal(req) : undefined);
  };
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
  return /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.get("content-type") ?? "")?.[1]?.toLowerCase();
}

/** Whether a body's declared charset is UTF-8, the only one the servers read (REST and GraphQL). */
export function isUtf8Charset(charset: string): boolean {
  return /^utf-?8$/i.test(charset);
}

export function unsupportedCharset(): AppError {
  return new AppError("UNSUPPORTED_MEDIA_TYPE", "The request body's charset is not supported.");
}
