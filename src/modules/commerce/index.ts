/**
 * Commerce: a store whose customers talk to Telegram bots, and whose bots call the REST API under
 * /api/bot/* with an API key and their bot id. Admins manage the catalog, read orders and the
 * ledger, fund balances and create API keys through the generated GraphQL API; the rules (stock,
 * the append-only ledger, balances that never go below zero, referral payouts) are the module's SQL.
 */
import { caseSensitiveRouter } from "../../platform/http/routeTable.ts";
import type { ModuleManifest } from "../../platform/modules.ts";
import { COMMERCE_API } from "./api.ts";
import { botAuthentication, botRunner } from "./botAuth.ts";
import { commerceConfig } from "./config.ts";
import { COMMERCE_ERRORS } from "./errors.ts";
import { botImplementations } from "./routes.ts";
import { seedDemoStore } from "./seed.ts";

export const commerce: ModuleManifest = {
  name: "commerce",
  config: commerceConfig,
  errors: COMMERCE_ERRORS,
  api: COMMERCE_API,
  server({ config, ownerPool, requestPool, database }) {
    const settings = commerceConfig.of(config);
    const asBot = botRunner(requestPool, database.botRole, config.graphql.statementTimeoutMs);
    // Every /api/bot/* request is authenticated before its body is even read: mounted with the
    // routers that come before the body parsers.
    const authentication = caseSensitiveRouter().use("/bot", botAuthentication(ownerPool, settings));
    return { streamingRoutes: [authentication], implementations: () => botImplementations(asBot) };
  },
  async seed(context) {
    const settings = context.config ? commerceConfig.of(context.config) : undefined;
    await seedDemoStore(settings?.serviceKey?.key)(context);
  },
};
