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
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.get("content-type") ?? "")?.[1]?.toLowerCase();
  if (charset && charset !== "utf-8" && charset !== "utf8") {
    return new AppError("UNSUPPORTED_MEDIA_TYPE", "The request body's charset is not supported.");
  }
  return undefined;
}
