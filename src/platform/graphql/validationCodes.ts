/**
 * Parse and validation errors never reach `maskError`: grafserv answers them itself (HTTP) or
 * hands them to graphql-ws (WebSocket). This middleware gives them their code on the way out —
 * VALIDATION_FAILED, or the code of grafserv's refusal (405, 406, 413, 415) — and answers 503 with
 * Retry-After when nothing could run because the database is out of reach. HTTP responses without
 * errors are only scanned, never parsed. Every JSON answer names its charset.
 */
import type { RequestDigest, Result } from "grafserv";
import { GraphQLError, getOperationAST, parse } from "postgraphile/graphql";
import { SERVICE_UNAVAILABLE_RETRY_AFTER } from "../errors.ts";
import { SUBSCRIPTION_OVER_HTTP } from "./transport.ts";

const ERRORS_MARKER = Buffer.from('"errors"');
const INTROSPECTION_TOO_DEEP = "Maximum introspection depth exceeded";

interface ErrorShape {
  message?: string;
  locations?: unknown[];
  extensions?: { code?: string; details?: unknown };
}

interface Payload {
  errors?: ErrorShape[];
}

/** grafserv's own refusals by status: wrong method, body too large, content type not accepted. */
const CODE_BY_STATUS: Readonly<Record<number, string>> = {
  405: "METHOD_NOT_ALLOWED",
  406: "NOT_ACCEPTABLE",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
};

interface Outcome {
  changed: boolean;
  statusCode?: number;
  headers?: Record<string, string>;
}

/** Codes the uncoded errors; returns the status and headers the whole response should carry. */
function addCodes(payload: Payload, statusCode: number | undefined): Outcome {
  let changed = false;
  const errors = payload.errors ?? [];
  const missing = CODE_BY_STATUS[statusCode ?? 200] ?? "VALIDATION_FAILED";
  for (const error of errors) {
    // A refusal before execution carries the HTTP status grafserv answers with in its extensions;
    // the response has it, and every error's extensions are the code (and details) alone.
    if (error.extensions && "statusCode" in error.extensions) {
      const { statusCode: _, ...extensions } = error.extensions;
      error.extensions = extensions;
      changed = true;
    }
    if (!error.extensions?.code) {
      // graphql-js's own depth rule for __schema / __type is one of the limits.
      error.extensions =
        error.message === INTROSPECTION_TOO_DEEP
          ? { ...error.extensions, code: "QUERY_TOO_COMPLEX", details: { reason: "TOO_DEEP" } }
          : { ...error.extensions, code: missing };
      changed = true;
    }
  }
  if (statusCode === 405) return { changed, headers: { allow: "GET, POST" } };
  // Nothing failed but for the database being out of reach: the whole answer is "retry later".
  if (errors.length > 0 && errors.every((error) => error.extensions?.code === "SERVICE_UNAVAILABLE")) {
    return { changed, statusCode: 503, headers: { "retry-after": String(SERVICE_UNAVAILABLE_RETRY_AFTER) } };
  }
  return { changed };
}

/**
 * grafserv answers a request that is not a POST with 405 "Only queries …" for any operation but a
 * query. Two of those are mistakes POST refuses too, and are answered as POST answers them (400
 * VALIDATION_FAILED): an operationName that names no operation (or none among several; the error
 * then points at no operation) and a subscription (WebSocket only). A mutation stays 405. Returns
 * the message POST would give, or undefined.
 */
async function refusedAsOverPost(payload: Payload, statusCode: number | undefined, request: RequestDigest) {
  const errors = payload.errors ?? [];
  if (
    statusCode !== 405 ||
    errors.length === 0 ||
    !errors.every((error) => error.message?.startsWith("Only queries"))
  ) {
    return undefined;
  }
  if (errors.every((error) => !error.locations?.length)) {
    return "The document has no operation of that name, or several operations and no operationName.";
  }
  return (await isSubscriptionOverGet(request)) ? SUBSCRIPTION_OVER_HTTP : undefined;
}

/** Every error becomes the one VALIDATION_FAILED refusal `message`, answered 400. */
function refuse(payload: Payload, message: string): Outcome {
  for (const error of payload.errors ?? []) {
    error.message = message;
    error.extensions = { code: "VALIDATION_FAILED" };
  }
  return { changed: true, statusCode: 400 };
}

/** Whether a GET asks for a subscription; parsed again, and a document that does not parse is not one. */
async function isSubscriptionOverGet(request: RequestDigest): Promise<boolean> {
  if (request.method !== "GET") return false;
  const params = await request.getQueryParams();
  const { query, operationName } = params;
  if (typeof query !== "string" || (operationName !== undefined && typeof operationName !== "string")) return false;
  try {
    return getOperationAST(parse(query), operationName)?.operation === "subscription";
  } catch {
    return false;
  }
}

/**
 * The payload of an answer that has errors: a JSON result's object itself (changed in place), or a
 * buffer's text parsed (written back by the caller). Answers without errors are only scanned.
 */
function errorsOf(result: Result & { type: "json" | "buffer" }): Payload | undefined {
  if (result.type === "json") {
    const json = result.json;
    return typeof json === "object" && json !== null && "errors" in json ? (json as Payload) : undefined;
  }
  return /json/.test(result.headers["content-type"] ?? "") && result.buffer.includes(ERRORS_MARKER)
    ? (JSON.parse(result.buffer.toString("utf8")) as Payload)
    : undefined;
}

export const ValidationErrorCodesPlugin: GraphileConfig.Plugin = {
  name: "TesseraValidationErrorCodes",
  version: "0.1.0",
  grafserv: {
    middleware: {
      async onSubscribe(next) {
        const result = await next();
        if (!Array.isArray(result)) return result;
        return (result as readonly GraphQLError[]).map((error) =>
          // Errors with an original error (e.g. a refused token) are coded by maskError later.
          error.extensions?.code || error.originalError
            ? error
            : new GraphQLError(error.message, {
                nodes: error.nodes,
                source: error.source,
                positions: error.positions,
                path: error.path,
                extensions: { ...error.extensions, code: "VALIDATION_FAILED" },
              }),
        );
      },
      async processRequest(next, event) {
        const result: Result | null = await next();
        if (result === null || (result.type !== "json" && result.type !== "buffer")) return result;
        // grafserv's refusals of a method or an Accept header say application/json without a charset.
        const type = result.headers["content-type"];
        if (type?.startsWith("application/json") && !type.includes("charset")) {
          result.headers["content-type"] = `${type}; charset=utf-8`;
        }
        const payload = errorsOf(result);
        if (!payload) return result;
        const mistake = await refusedAsOverPost(payload, result.statusCode, event.requestDigest);
        const outcome = mistake ? refuse(payload, mistake) : addCodes(payload, result.statusCode);
        if (result.type === "buffer" && outcome.changed) {
          result.buffer = Buffer.from(JSON.stringify(payload), "utf8");
          result.headers["content-length"] = String(result.buffer.length);
        }
        if (outcome.statusCode) result.statusCode = outcome.statusCode;
        Object.assign(result.headers, outcome.headers);
        return result;
      },
    },
  },
};
