/**
 * The operation allow-list (GRAPHQL_PERSISTED_OPERATIONS_DIR): a directory of `<hash>.graphql`
 * files, read once when the server starts. @grafserv/persisted reads such a directory itself, but
 * a directory it cannot read let the server start and refuse every operation; each refused request
 * was printed to the console whole, with the client's document, as an error; and, with no file list,
 * every distinct unknown hash a client sent stayed in its memory. Here the directory must be readable
 * at start, the operations live in one map that clients cannot grow, and an unknown or missing id is
 * answered (400 VALIDATION_FAILED) without a log line.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type GraphQLError, parse } from "postgraphile/graphql";
import { StartupError } from "../config.ts";
import { errnoCode } from "../system.ts";

const FILE = /^([A-Za-z0-9_-]+)\.graphql$/;

export interface PersistedOperations {
  /** The document of an allow-listed id; null for any other. */
  getter(hash: string): string | null;
  /** The id a request names (Apollo's, Relay's or a plain `id`); "" when it names none. */
  hashFromPayload(payload: unknown): string;
  size: number;
}

export function loadPersistedOperations(
  dir: string,
  variable = "GRAPHQL_PERSISTED_OPERATIONS_DIR",
): PersistedOperations {
  const operations = new Map<string, string>();
  try {
    for (const name of readdirSync(dir)) {
      const hash = FILE.exec(name)?.[1];
      if (hash) operations.set(hash, readFileSync(join(dir, name), "utf8"));
    }
  } catch (error) {
    const reason = errnoCode(error);
    throw new StartupError(
      `${variable}: ${dir} cannot be read (${reason}): set ${variable} to a directory of <hash>.graphql files.`,
    );
  }
  // A file that is no GraphQL would only fail each request that names it: it stops the start instead.
  for (const [hash, document] of operations) {
    try {
      parse(document);
    } catch (error) {
      const { message, locations } = error as GraphQLError;
      const at = locations?.[0] ? ` at ${locations[0].line}:${locations[0].column}` : "";
      throw new StartupError(`${variable}: ${join(dir, `${hash}.graphql`)} is not a GraphQL document${at}: ${message}`);
    }
  }
  return {
    getter: (hash) => operations.get(hash) ?? null,
    hashFromPayload(payload) {
      const body = payload as
        | { id?: unknown; documentId?: unknown; extensions?: { persistedQuery?: { sha256Hash?: unknown } } }
        | undefined;
      const hash = body?.extensions?.persistedQuery?.sha256Hash ?? body?.documentId ?? body?.id;
      return typeof hash === "string" ? hash : "";
    },
    size: operations.size,
  };
}
