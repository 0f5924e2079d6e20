/** A new tenant gets its built-in roles (owner, admin, manager, member) and its system user. */
import { ensureTenantIdentity } from "../tenancy/tenants.ts";
import type { Consumer } from "../../platform/worker/consumers.ts";

export const setUpTenantIdentity: Consumer = {
  name: "tenant_identity",
  handle: (client, event) => ensureTenantIdentity(client, event.tenant_id!),
};
