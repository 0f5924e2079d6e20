/**
 * `tenantModuleChanged`: a live feed of the current tenant's module switches, fed by the
 * `_500_notify` trigger on app_public.tenant_modules through LISTEN/NOTIFY.
 */
import { context } from "postgraphile/grafast";
import { extendSchema, gql } from "postgraphile/utils";
import { AppError } from "../../platform/errors.ts";
import { topicSubscription } from "../../platform/graphql/subscriptions.ts";

type ModuleChangeEvent = {
  event: "insert" | "update";
  module: string;
  enabled: boolean;
};

/** The NOTIFY channel of a tenant's module changes; must match tg_tenant_modules__notify(). */
export function tenantModulesTopic(tenantId: string | null): string {
  if (!tenantId) throw new AppError("UNAUTHENTICATED", "Sign in to subscribe to module changes.");
  return `tenant:${tenantId}:modules`;
}

export const TenantModulesSubscriptionPlugin = extendSchema((build) => {
  const tenantModules = build.input.pgRegistry.pgResources.tenant_modules;
  if (!tenantModules) throw new Error("app_public.tenant_modules is missing from the registry");
  return {
    typeDefs: gql`
      """
      A module of the current tenant was switched on or off.
      """
      type TenantModuleChangedPayload {
        """
        insert or update
        """
        event: String!
        """
        The module row as it is now (read back under row-level security).
        """
        tenantModule: TenantModule
      }

      extend type Subscription {
        """
        Delivers every change to the current tenant's modules. Requires a signed-in user.
        """
        tenantModuleChanged: TenantModuleChangedPayload
      }
    `,
    objects: {
      Subscription: {
        plans: {
          tenantModuleChanged: topicSubscription<ModuleChangeEvent>("tenantId", tenantModulesTopic),
        },
      },
      TenantModuleChangedPayload: {
        plans: {
          event($event) {
            return $event.get("event");
          },
          tenantModule($event) {
            return tenantModules.get({ tenant_id: context().get("tenantId"), module: $event.get("module") });
          },
        },
      },
    },
  };
});
