/**
 * GraphQL's side of the one error table: every error leaving /graphql (HTTP or WebSocket) gets
 * `extensions.code`. Client mistakes keep a safe message and are not logged as errors; server
 * faults become INTERNAL (or SERVICE_UNAVAILABLE when the database is out of reach) and are logged
 * once, with the request id.
 */
import { isSafeError } from "postgraphile/grafast";
import { GraphQLError } from "postgraphile/graphql";
import { AppError, isErrorCode, toAppError } from "../errors.ts";
import { logServerFault } from "../http/errorHandler.ts";
import { currentRequestId } from "../http/requestId.ts";
import type { Logger } from "../logger.ts";
import { stripSuggestions } from "./limits.ts";

/** graphql-js's wording for a variable that its type refuses (bad UUID, Int out of range…). */
const VARIABLE_COERCION = /^Variable "\$[_A-Za-z][_0-9A-Za-z]*" (got invalid value|of required type|of non-null type)/;

/** A quoted value longer than this in a graphql-js message is cut (it echoes the client's input). */
const ECHO_MAX_CHARS = 80;
const LONG_QUOTED = new RegExp(`"((?:[^"\\\\]|\\\\.){${ECHO_MAX_CHARS + 1},})"`, "g");

/**
 * graphql-js quotes a refused variable's value in its message, twice for a scalar ("got invalid
 * value "…"; Int cannot represent …: "…""): a 90 kB string would come back as 180 kB. Each quoted
 * value over ECHO_MAX_CHARS keeps its first ECHO_MAX_CHARS characters and an ellipsis.
 */
function shortenEchoes(message: string): string {
  return message.replace(LONG_QUOTED, (_, inner: string) => {
    const start = Array.from(inner).slice(0, ECHO_MAX_CHARS).join("").replace(/\\+$/, "");
    return `"${start}…"`;
  });
}

/** What an error leaving GraphQL means for the client. */
export function classifyGraphQLError(error: GraphQLError): AppError {
  const original = error.originalError;
  if (!error.path) {
    // Before execution: the document failed to parse or validate, or a variable failed to coerce.
    // These messages come from graphql-js and describe the client's document, never our internals.
    // Refusals of our own rules and plugins carry a code of the table and keep it, with their
    // details (over WebSocket, validation errors come through here too).
    const code = error.extensions?.code;
    if (!original && code !== "INTERNAL" && isErrorCode(code)) {
      const details = error.extensions.details;
      return new AppError(code, error.message, {
        cause: error,
        details: details && typeof details === "object" ? (details as Record<string, unknown>) : undefined,
      });
    }
    if (!original || VARIABLE_COERCION.test(error.message))
      return new AppError("VALIDATION_FAILED", shortenEchoes(error.message), { cause: error });
  } else if (!original) {
    // During execution, an error without an original one is graphql-js reporting that our own
    // schema broke its promise (a null in a non-null field): the server's fault, never the client's.
    return new AppError("INTERNAL", undefined, { cause: error });
  }
  const appError = toAppError(original);
  // SafeErrors without a code of ours are Grafast's and grafserv's verdicts on client input (an
  // invalid cursor or node id; before execution, over WebSocket, an operation the allow-list does not
  // hold): their message is meant for the client. One with a status of 500 or more is a server fault.
  const status = isSafeError(original) ? Number(original.extensions?.statusCode ?? 400) : 500;
  if (appError.code === "INTERNAL" && status < 500)
    return new AppError("VALIDATION_FAILED", original.message, { cause: original });
  return appError;
}

/**
 * `hideSuggestions` (introspection off): graphql-js's "Did you mean …?" is cut from messages raised
 * outside validation too (a variable's misspelt enum value or input field names the real ones).
 */
export function makeMaskError(logger: Logger, exposeInternals: boolean, hideSuggestions = false) {
  return (error: GraphQLError): GraphQLError => {
    const appError = classifyGraphQLError(error);
    logServerFault(logger, appError, { requestId: currentRequestId(), path: error.path, message: error.message });
    const message = appError.code === "INTERNAL" && exposeInternals ? error.message : appError.message;
    return withCode(error, hideSuggestions ? stripSuggestions(message) : message, appError);
  };
}

function withCode(error: GraphQLError, message: string, appError: AppError): GraphQLError {
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions: { code: appError.code, ...(appError.details ? { details: appError.details } : {}) },
  });
}
