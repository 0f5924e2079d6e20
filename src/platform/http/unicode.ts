/**
 * Text that is not Unicode is refused, never stored altered. Node turns invalid UTF-8 bytes and
 * invalid percent-escapes into U+FFFD as it decodes them, and JSON decodes an escaped lone surrogate
 * (`"\ud800"`) into a string that PostgreSQL's UTF-8 would also store as U+FFFD: the client would get
 * a 200 for text that is not what it sent. Each input path checks what it reads, before parsing: the
 * bytes of a body, the escapes of a query string or form body, the `\u` escapes of JSON text.
 */
import { isUtf8 } from "node:buffer";
import type { NextFunction, Request, Response } from "express";
import { AppError } from "../errors.ts";
import { isUtf8Charset, unsupportedCharset } from "./requestBody.ts";

/** VALIDATION_FAILED, `details.reason` NOT_UNICODE, naming the part of the request at fault. */
export function notUnicode(part: string): AppError {
  return new AppError("VALIDATION_FAILED", `The request's ${part} is not valid Unicode text.`, {
    details: { reason: "NOT_UNICODE" },
  });
}

/** Text PostgreSQL's text type can hold as sent: well-formed Unicode (no lone surrogate) without NUL. */
export function isStorableText(text: string): boolean {
  return text.isWellFormed() && !text.includes("\u0000");
}

/**
 * Whether JSON text escapes no lone surrogate: each `\uD800`–`\uDBFF` escape is followed at once by
 * a `\uDC00`–`\uDFFF` escape, and each of those follows one. Read on the text, not on the parsed
 * value, so that a duplicate key, an unknown field or a message id is checked too. In JSON a
 * backslash occurs only inside strings; text decoded from UTF-8 holds no lone surrogate of its own.
 */
export function escapesWellFormed(text: string): boolean {
  // Where the escape after a high surrogate must start; -1 when none is awaited.
  let lowExpectedAt = -1;
  for (let at = text.indexOf("\\"); at >= 0; ) {
    if (text[at + 1] !== "u") {
      if (lowExpectedAt >= 0) return false;
      at = text.indexOf("\\", at + 2);
      continue;
    }
    const unit = Number.parseInt(text.slice(at + 2, at + 6), 16);
    const isLow = unit >= 0xdc00 && unit <= 0xdfff;
    if (lowExpectedAt >= 0) {
      if (at !== lowExpectedAt || !isLow) return false;
      lowExpectedAt = -1;
    } else if (isLow) {
      return false;
    } else if (unit >= 0xd800 && unit <= 0xdbff) {
      lowExpectedAt = at + 6;
    }
    at = text.indexOf("\\", at + 6);
  }
  return lowExpectedAt < 0;
}

/** Whether a JSON body is UTF-8 whose escapes spell no lone surrogate. */
export function isUnicodeJson(body: Buffer): boolean {
  return isUtf8(body) && (!body.includes("\\u") || escapesWellFormed(body.toString("utf8")));
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

/**
 * The first key that one object of JSON text gives twice (compared as decoded: `"a"` and `"\u0061"`
 * are one key); undefined when there is none, or when the text is not JSON (the parser says so).
 * JSON.parse keeps the last of two, where a proxy or a logger in front may read the first.
 */
export function duplicateKey(text: string): string | undefined {
  // One entry per open object (its keys so far) or array (null).
  const open: (Set<string> | null)[] = [];
  let keyNext = false;
  for (let at = 0; at < text.length; at++) {
    const char = text[at];
    if (char === '"') {
      let end = at + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      if (keyNext) {
        const raw = text.slice(at, end + 1);
        let key: string;
        try {
          key = raw.includes("\\") ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        } catch {
          return undefined;
        }
        const keys = open.at(-1);
        // A key where no object is open (`{}"a"`, `{]"a":1}`): not JSON, which the parser names.
        if (!(keys instanceof Set)) return undefined;
        if (keys.has(key)) return key;
        keys.add(key);
        keyNext = false;
      }
      at = end;
    } else if (char === "{") {
      open.push(new Set());
      keyNext = true;
    } else if (char === "[") {
      open.push(null);
    } else if (char === "}" || char === "]") {
      open.pop();
      keyNext = false;
    } else if (char === ",") {
      keyNext = open.at(-1) instanceof Set;
    }
  }
  return undefined;
}

/** VALIDATION_FAILED, `details.reason` DUPLICATE_KEY: a JSON body that gives `key` twice in one object. */
export function duplicateKeyRefusal(key: string): AppError {
  return new AppError("VALIDATION_FAILED", `The body gives the key ${JSON.stringify(key)} twice in one object.`, {
    details: { reason: "DUPLICATE_KEY" },
  });
}

/**
 * body-parser's `verify` for JSON bodies: UTF-8 only (body-parser would also decode UTF-16 and
 * UTF-32, which no other path reads and whose invalid units it turns into U+FFFD), Unicode, no
 * key given twice in one object, and an object.
 */
export function verifyJsonBody(_req: Request, _res: Response, body: Buffer, encoding: string): void {
  if (!isUtf8Charset(encoding)) throw unsupportedCharset();
  if (!isUnicodeJson(body)) throw notUnicode("body");
  const text = body.toString("utf8");
  const twice = duplicateKey(text);
  if (twice !== undefined) throw duplicateKeyRefusal(twice);
  if (isJsonOtherThanObject(text))
    throw new AppError("VALIDATION_FAILED", "The request body must be a JSON object.", {
      details: { reason: "NOT_AN_OBJECT" },
    });
}

/**
 * Whether text is JSON whose value is not an object (`null`, `"x"`, `[]`): every JSON body of the API
 * is an object, and body-parser would call such text "not valid JSON". Text that is no JSON at all is
 * left to the parser's own message.
 */
function isJsonOtherThanObject(text: string): boolean {
  // body-parser reads past a byte order mark at the start, as JSON.parse would not.
  const json = text.replace(/^\uFEFF/, "");
  const first = /[^ \t\n\r]/.exec(json)?.[0];
  if (first === undefined || first === "{") return false;
  try {
    JSON.parse(json);
    return true;
  } catch {
    return false;
  }
}

/**
 * body-parser's `verify` for form bodies: UTF-8 bytes whose %-escapes also spell UTF-8, and no field
 * named `__proto__`, which the parser drops without a word where a route refuses any field it does
 * not take.
 */
export function verifyFormBody(_req: Request, _res: Response, body: Buffer, encoding: string): void {
  if (!isUtf8Charset(encoding)) throw unsupportedCharset();
  if (!isUtf8(body) || !isValidPercentEncoding(body.toString("latin1"))) throw notUnicode("body");
  if ([...new URLSearchParams(body.toString("utf8")).keys()].includes("__proto__"))
    throw new AppError("VALIDATION_FAILED", "Some fields are not valid.", {
      // A computed key: a literal `__proto__:` would set the object's prototype, not a field.
      details: { fields: { ["__proto__"]: "is not allowed here" } },
    });
}

/** After the body parsers (which check their bodies): the query string's %-escapes. */
export function wellFormedQueryString(req: Request, _res: Response, next: NextFunction): void {
  next(isValidPercentEncoding(searchOf(req.originalUrl)) ? undefined : notUnicode("query string"));
}
