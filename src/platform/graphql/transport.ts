/**
 * Subscriptions run over WebSocket only. grafserv would also stream a subscription sent with
 * POST /graphql (multipart/mixed), but such a stream has no connection_init, no per-socket limits
 * and nothing that ends it when its session is revoked or its token expires (src/platform/auth/sessionWatch.ts
 * watches WebSocket subscriptions). Over HTTP a subscription is refused before anything runs.
 */
import { GraphQLError, getOperationAST } from "postgraphile/graphql";

export const SUBSCRIPTION_OVER_HTTP =
  "Subscriptions are served over WebSocket (graphql-ws) on this path, not over HTTP.";

export const SubscriptionsOverWebSocketPlugin: GraphileConfig.Plugin = {
  name: "TesseraSubscriptionsOverWebSocket",
  version: "0.1.0",
  grafast: {
    middleware: {
      execute(next, event) {
        const { document, operationName, requestContext } = event.args;
        if (requestContext?.ws) return next();
        const operation = getOperationAST(document, operationName ?? undefined);
        if (operation?.operation !== "subscription") return next();
        return {
          errors: [
            new GraphQLError(SUBSCRIPTION_OVER_HTTP, {
              nodes: [operation],
              extensions: { code: "VALIDATION_FAILED" },
            }),
          ],
        };
      },
    },
  },
};
