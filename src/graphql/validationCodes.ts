/**
 * Parse and validation errors never reach `maskError`: grafserv answers them itself (HTTP) or
 * hands them to graphql-ws (WebSocket). This middleware gives them their VALIDATION_FAILED code on
 * the way out. HTTP responses without errors are only scanned, never parsed.
 */
import type { Result } from "grafserv";
import { GraphQLError } from "postgraphile/graphql";

const ERRORS_MARKER = Buffer.from('"errors"');

interface ErrorShape {
  extensions?: { code?: string };
}

function addCodes(payload: { errors?: ErrorShape[] }): boolean {
  let changed = false;
  for (const error of payload.errors ?? []) {
    if (!error.extensions?.code) {
      error.extensions = { ...error.extensions, code: "VALIDATION_FAILED" };
      changed = true;
    }
  }
  return changed;
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
            : new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, extensions: { ...error.extensions, code: "VALIDATION_FAILED" } }),
        );
      },
      async processRequest(next) {
        const result: Result | null = await next();
        if (result?.type === "json" && typeof result.json === "object" && result.json !== null && "errors" in result.json) {
          addCodes(result.json as { errors?: ErrorShape[] });
        } else if (result?.type === "buffer" && /json/.test(result.headers["content-type"] ?? "") && result.buffer.includes(ERRORS_MARKER)) {
          const payload = JSON.parse(result.buffer.toString("utf8")) as { errors?: ErrorShape[] };
          if (addCodes(payload)) {
            result.buffer = Buffer.from(JSON.stringify(payload), "utf8");
            result.headers["content-length"] = String(result.buffer.length);
          }
        }
        return result;
      },
    },
  },
};
