/** The PostGraphile V5 preset: Amber, simplified inflection, our plugins, context and masking. */
import { PARSED_DOCUMENTS_CACHED, makePlanCachePlugin } from "./planCache.ts";
import { PgSimplifyInflectionPreset } from "@graphile/simplify-inflection";
import { PersistedPlugin } from "@grafserv/persisted";
import { makePgService, type PgSubscriber } from "postgraphile/adaptors/pg";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import type { SessionCheck } from "../auth/sessionCheck.ts";
import type { Config, DatabaseUrls } from "../config.ts";
import type { Logger } from "../logger.ts";
import { makeContextCallback } from "./context.ts";
import { StrictDatetimePlugin } from "./datetime.ts";
import { StrictNumbersPlugin } from "./numbers.ts";
import { makeMaskError } from "./maskError.ts";
import { makeExecutionBudgetPlugin } from "./executionBudget.ts";
import { makeLimitsPlugin } from "./limits.ts";
import { SignInFirstPlugin } from "./signInFirst.ts";
import type { RequestTransactions } from "./requestTransactions.ts";
import { makeDefaultPageSizePlugin } from "./pageSize.ts";
import { SubscriptionsOverWebSocketPlugin } from "./transport.ts";
import { NodeIdShapePlugin } from "./nodeIds.ts";
import { loadPersistedOperations } from "./persistedOperations.ts";
import { UnicodeTextPlugin } from "./unicodeText.ts";
import { ValidationErrorCodesPlugin } from "./validationCodes.ts";

export interface PresetOptions {
  database: DatabaseUrls;
  jwtSecret: string;
  isProduction: boolean;
  graphql: Config["graphql"];
  logger: Logger;
  /** The authenticator pool to use (so the server can measure it); created by PostGraphile if absent. */
  pool?: import("pg").Pool;
  /** The LISTEN/NOTIFY subscriber of subscriptions; PostGraphile makes one on `pool` if absent. */
  pgSubscriber?: PgSubscriber;
  /** Root mutations the modules declare expensive: at most one of them per request. */
  expensiveMutations?: readonly string[];
  /** The modules' plugins, then more of the platform's (metrics…). */
  plugins?: GraphileConfig.Plugin[];
  /**
   * Request-time services: the session check, and the values modules add to every request's
   * context. Absent when the preset only builds the schema (schema export).
   */
  services?: { checkSession: SessionCheck; values: Record<string, unknown> };
  /** Runs the requests' statements with fewer round trips; PostGraphile's own adaptor if absent. */
  transactions?: RequestTransactions;
}

/** The largest GraphQL request body over HTTP (grafserv's maxRequestLength; also a WebSocket message's cap). */
export const GRAPHQL_MAX_BODY_BYTES = 100_000;

export function makePreset(options: PresetOptions): GraphileConfig.Preset {
  const persisted = options.graphql.persistedOperationsDir
    ? loadPersistedOperations(options.graphql.persistedOperationsDir)
    : undefined;
  return {
    extends: [PostGraphileAmberPreset, PgSimplifyInflectionPreset],
    plugins: [
      // First: its body hook puts an allow-listed id's document in the body, which the limits'
      // hook (next) then reads; the other way round, page sizes given as variables went unchecked.
      ...(persisted ? [PersistedPlugin] : []),
      StrictDatetimePlugin,
      StrictNumbersPlugin,
      makeLimitsPlugin({ ...options.graphql, expensiveMutations: new Set(options.expensiveMutations ?? []) }),
      makeDefaultPageSizePlugin(options.graphql.maxPageSize),
      SubscriptionsOverWebSocketPlugin,
      makePlanCachePlugin((message) => options.logger.error(message)),
      makeExecutionBudgetPlugin(),
      SignInFirstPlugin,
      ValidationErrorCodesPlugin,
      UnicodeTextPlugin,
      NodeIdShapePlugin,
      ...(options.plugins ?? []),
    ],
    pgServices: [
      pgServiceOf(options, {
        ...(options.pool ? { pool: options.pool } : { connectionString: options.database.authenticatorUrl }),
        superuserConnectionString: options.database.ownerUrl,
        schemas: ["app_public"],
        pubsub: true,
        ...(options.pgSubscriber ? { pgSubscriber: options.pgSubscriber } : {}),
      }),
    ],
    grafserv: {
      graphqlPath: "/graphql",
      maxRequestLength: GRAPHQL_MAX_BODY_BYTES,
      graphiqlPath: "/graphiql",
      // Ruru needs introspection: it follows the introspection switch (off in production by default).
      graphiql: options.graphql.introspection,
      graphiqlOnGraphQLGET: false,
      // Queries over GET (urql and others default to it for queries); mutations stay POST-only
      // (405). Tokens travel in the Authorization header, never cookies, so GET is no CSRF door.
      graphqlOverGET: true,
      // Each parsed document is kept for its next request; by count (src/platform/graphql/planCache.ts).
      parseAndValidateCacheSize: PARSED_DOCUMENTS_CACHED,
      websockets: true,
      // Grafast writes a result's data straight into its JSON text instead of building the objects
      // and stringifying them after: less CPU per request on large results (bench/README.md). Over
      // HTTP only; graphql-ws encodes its messages itself.
      outputDataAsString: true,
      // Without introspection, error messages do not suggest field, argument or enum value names.
      maskError: makeMaskError(options.logger, !options.isProduction, !options.graphql.introspection),
      // Allow-list: with a directory of `<hash>.graphql` files, only those operations run.
      ...(persisted
        ? {
            // null for an unknown id: the plugin then refuses the request (its type says string only).
            persistedOperationsGetter: persisted.getter as (hash: string) => string,
            hashFromPayload: persisted.hashFromPayload as (body: unknown) => string,
            allowUnpersistedOperation: false,
          }
        : {}),
    },
    grafast: {
      context: makeContextCallback({
        jwtSecret: options.jwtSecret,
        visitorRole: options.database.visitorRole,
        statementTimeoutMs: options.graphql.statementTimeoutMs,
        services: options.services,
      }),
    },
    gather: {
      // A SQL argument without a default is required: `!` in GraphQL, so typed clients see it.
      pgStrictFunctions: true,
    },
    schema: {
      // Keep the schema stable whatever order PostgreSQL returns things in.
      sortExport: true,
    },
  };
}

/** PostGraphile's pg service, running its requests through `options.transactions` when given. */
function pgServiceOf(options: PresetOptions, serviceOptions: Parameters<typeof makePgService>[0]) {
  const service = makePgService(serviceOptions);
  return options.transactions ? options.transactions.serviceFor(service) : service;
}
