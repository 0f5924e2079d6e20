/**
 * `tenantModuleChanged`: a live feed of the current tenant's module switches, fed by the
 * `_500_notify_inserted` and `_500_notify_updated` triggers on app_public.tenant_modules through
 * LISTEN/NOTIFY.
 */
import { context } from "postgraphile/grafast";
import { extendSchema, gql } from "postgraphile/utils";
import { callerTopic, pgResource, topicSubscription } from "../../platform/graphql/subscriptions.ts";

type ModuleChangeEvent = {
  event: "insert" | "update";
  module: string;
  enabled: boolean;
};

/** The NOTIFY channel of a tenant's module changes; must match tg_tenant_modules__notify_rows(). */
const tenantModulesTopic = callerTopic("tenantId", "modules", "Sign in to subscribe to module changes.");

export const TenantModulesSubscriptionPlugin = extendSchema((build) => {
  const tenantModules = pgResource(build, "tenant_modules");
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
