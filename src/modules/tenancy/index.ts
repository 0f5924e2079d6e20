/**
 * Tenancy: tenants, the module catalogue and each tenant's module switches (GraphQL, the
 * `tenantModuleChanged` subscription, GET /api/tenants/current), and the tenant's bootstrap step.
 */
import type { ModuleManifest } from "../../platform/modules.ts";
import { TENANCY_API } from "./api.ts";
import { tenantRoutes } from "./rest.ts";
import { TenantModulesSubscriptionPlugin } from "./subscription.ts";
import { enableAllModules, seedDemoTenant, tenantDefaults, tenantStep } from "./tenants.ts";

export const tenancy: ModuleManifest = {
  name: "tenancy",
  graphqlPlugins: [TenantModulesSubscriptionPlugin],
  api: TENANCY_API,
  server: () => ({ routes: (runOperation) => [tenantRoutes(runOperation)] }),
  consumers: { tenant_created: [tenantDefaults] },
  bootstrap: [tenantStep],
  seed: seedDemoTenant,
  prepareTenant: enableAllModules,
};
