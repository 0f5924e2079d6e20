/**
 * Text that is not Unicode is refused, never stored altered. Node turns invalid UTF-8 bytes and
 * invalid percent-escapes into U+FFFD as it decodes them, and JSON decodes an escaped lone surrogate
 * (`"\ud800"`) into a string that PostgreSQL's UTF-8 would also store as U+FFFD: the client would get
 * a 200 for text that is not what it sent. Each input path checks what it reads: the raw bytes of a
 * body, the escapes of a query string or form body, and every string (and key) once parsed.
 */
import { isUtf8 } from "node:buffer";
import type { NextFunction, Request, Response } from "express";
import { AppError } from "../errors.ts";

/** VALIDATION_FAILED, `details.reason` NOT_UNICODE, naming the part of the request at fault. */
export function notUnicode(part: string): AppError {
  return new AppError("VALIDATION_FAILED", `The request's ${part} is not valid Unicode text.`, {
    details: { reason: "NOT_UNICODE" },
  });
}

/**
 * Whether every string in a parsed value, keys included, is well-formed UTF-16 (no lone surrogate).
 * Walked with a stack of its own: a body of 100 kB can nest tens of thousands of levels deep.
 */
export function isWellFormedValue(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === "string") {
      if (!item.isWellFormed()) return false;
    } else if (Array.isArray(item)) {
      for (const element of item) pending.push(element);
    } else if (typeof item === "object" && item !== null) {
      for (const [key, element] of Object.entries(item)) {
        if (!key.isWellFormed()) return false;
        pending.push(element);
      }
    }
  }
  return true;
}

/**
 * Whether the bytes that the %-escapes of a query string or form body spell are UTF-8. A `%` that
 * starts no escape is kept as it is by the parsers, so it alters nothing and passes.
 */
export function isValidPercentEncoding(text: string): boolean {
  if (!text.includes("%")) return true;
  for (const [run] of text.matchAll(/(?:%[0-9a-f]{2})+/gi)) {
    if (!isUtf8(Buffer.from(run.replaceAll("%", ""), "hex"))) return false;
  }
  return true;
}

/** The query string of a request URL ("" without one). */
export function searchOf(url: string | undefined): string {
  const at = url?.indexOf("?") ?? -1;
  return at >= 0 ? url!.slice(at + 1) : "";
}

/** body-parser's `verify` for JSON bodies: bytes that are not UTF-8 are refused before decoding. */
export function verifyJsonBody(_req: Request, _res: Response, body: Buffer): void {
  if (!isUtf8(body)) throw notUnicode("body");
}

/** body-parser's `verify` for form bodies: their bytes, and what their %-escapes spell, must be UTF-8. */
export function verifyFormBody(_req: Request, _res: Response, body: Buffer): void {
  if (!isUtf8(body) || !isValidPercentEncoding(body.toString("latin1"))) throw notUnicode("body");
}

/** After the body parsers: the query string's escapes, and every string of the parsed body. */
export function wellFormedRequest(req: Request, _res: Response, next: NextFunction): void {
  if (!isValidPercentEncoding(searchOf(req.originalUrl))) next(notUnicode("query string"));
  else next(isWellFormedValue(req.body) ? undefined : notUnicode("body"));
}
