/**
 * grafserv parses `Accept` itself and answers a header it cannot parse with a 500 (and a console
 * line). A malformed `Accept` is the client's mistake: refuse it first with 400 VALIDATION_FAILED;
 * an empty one (which grafserv fails on too) is taken as no Accept at all.
 * The grammar checked here is at least as strict as grafserv's: media ranges with token or quoted
 * parameters, `q` between 0 and 1.
 */
import type { NextFunction, Request, Response } from "express";
import { AppError } from "../errors.ts";

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
// A quoted value holds no backslash: grafserv reads `\"` as an escaped quote, so `a="\"` (which a
// plain `"[^"]*"` takes) never closes there and fails with a 500. Nor a comma, which splits elements.
const MEDIA_RANGE = new RegExp(`^(\\*/\\*|${TOKEN}/(${TOKEN}|\\*))(\\s*;\\s*${TOKEN}=(${TOKEN}|"[^"\\\\,]*"))*$`);

/** True when every element of the header is a well-formed media range. */
export function isWellFormedAccept(header: string): boolean {
  if (header.trim() === "") return true;
  return header.split(",").every((element) => {
    const range = element.trim();
    if (!MEDIA_RANGE.test(range)) return false;
    const q = /;\s*q=([^;]*)/i.exec(range)?.[1];
    if (q === undefined) return true;
    const value = Number(q.trim());
    return /^\s*\d+(\.\d*)?\s*$/.test(q) && value >= 0 && value <= 1;
  });
}

export function acceptHeaderGuard(path: string) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const accept = req.get("accept");
    if (req.path === path && accept !== undefined && accept.trim() === "") {
      // grafserv fails on an empty Accept (500); an empty one asks for no type in particular, as none does.
      delete req.headers.accept;
    } else if (req.path === path && accept !== undefined && !isWellFormedAccept(accept)) {
      next(new AppError("VALIDATION_FAILED", "The Accept header is not a valid list of media types."));
      return;
    }
    next();
  };
}
