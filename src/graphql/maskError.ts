/**
 * GraphQL's side of the one error table: every error leaving /graphql (HTTP or WebSocket) gets
 * `extensions.code`; unexpected errors are logged and replaced by a generic INTERNAL message.
 */
import { GraphQLError } from "postgraphile/graphql";
import { AppError, toAppError } from "../errors.ts";
import type { Logger } from "../logger.ts";

export function makeMaskError(logger: Logger, exposeInternals: boolean) {
  return (error: GraphQLError): GraphQLError => {
    const original = error.originalError;
    if (!original) {
      // Parse and validation errors from graphql-js: already safe, only lack a code.
      return withCode(error, error.message, new AppError("VALIDATION_FAILED", error.message));
    }
    const appError = toAppError(original);
    if (appError.code === "INTERNAL") {
      logger.error({ err: original, path: error.path }, "unexpected GraphQL error");
      return withCode(error, exposeInternals ? original.message : appError.message, appError);
    }
    return withCode(error, appError.message, appError);
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
