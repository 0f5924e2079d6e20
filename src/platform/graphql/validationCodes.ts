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

/** Codes the uncoded errors; returns the status and headers the whole response should carry. */
function addCodes(
  payload: Payload,
  statusCode: number | undefined,
  subscription: boolean,
): { changed: boolean; statusCode?: number; headers?: Record<string, string> } {
  let changed = false;
  const errors = payload.errors ?? [];
  // A subscription over GET is refused as over POST, not sent to POST with a 405.
  if (subscription) {
    for (const error of errors) {
      error.message = SUBSCRIPTION_OVER_HTTP;
      error.extensions = { code: "VALIDATION_FAILED" };
    }
    return { changed: true, statusCode: 400 };
  }
  // grafserv refuses a GET whose operationName names no operation (or that names none among
  // several) as if it were a mutation: 405, "Only queries …", pointing at no operation. It is a
  // mistake in the request, answered as POST answers it. (A PUT is 405 with another message.)
  const noOperation = (error: ErrorShape) => error.message?.startsWith("Only queries") && !error.locations?.length;
  if (statusCode === 405 && errors.length > 0 && errors.every(noOperation)) {
    for (const error of errors) {
      error.message = "The document has no operation of that name, or several operations and no operationName.";
      error.extensions = { ...error.extensions, code: "VALIDATION_FAILED" };
    }
    return { changed: true, statusCode: 400 };
  }
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
 * Whether a GET grafserv refused with 405 asks for a subscription (it refuses every operation but a
 * query so). Parsed again only on this refusal; a document that does not parse is not one.
 */
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
        const subscription = result.statusCode === 405 && (await isSubscriptionOverGet(event.requestDigest));
        if (
          result.type === "json" &&
          typeof result.json === "object" &&
          result.json !== null &&
          "errors" in result.json
        ) {
          const outcome = addCodes(result.json as Payload, result.statusCode, subscription);
          if (outcome.statusCode) result.statusCode = outcome.statusCode;
          Object.assign(result.headers, outcome.headers);
        } else if (
          result.type === "buffer" &&
          /json/.test(result.headers["content-type"] ?? "") &&
          result.buffer.includes(ERRORS_MARKER)
        ) {
          const payload = JSON.parse(result.buffer.toString("utf8")) as Payload;
          const outcome = addCodes(payload, result.statusCode, subscription);
          if (outcome.changed) {
            result.buffer = Buffer.from(JSON.stringify(payload), "utf8");
            result.headers["content-length"] = String(result.buffer.length);
          }
          if (outcome.statusCode) result.statusCode = outcome.statusCode;
          Object.assign(result.headers, outcome.headers);
        }
        return result;
      },
    },
  },
};
