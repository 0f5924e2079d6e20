/** A new tenant gets a row for every module, all switched on, so admins have something to toggle. */
import { enableAllModules } from "./tenants.ts";
import type { Consumer } from "../../platform/worker/consumers.ts";

export const setUpTenantDefaults: Consumer = {
  name: "tenant_defaults",
  handle: (client, event) => enableAllModules(client, event.tenant_id!),
};
