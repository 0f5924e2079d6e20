/** A new tenant gets its built-in roles (owner, admin, manager, member) and its system user. */
import type { Consumer } from "./types.ts";

export const setUpTenantIdentity: Consumer = {
  name: "tenant_identity",
  async handle(client, event) {
    await client.query("select app_private.ensure_tenant_identity($1)", [event.tenant_id]);
  },
};
