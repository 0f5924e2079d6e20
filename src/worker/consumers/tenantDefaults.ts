/** A new tenant gets a row for every module, all switched on, so admins have something to toggle. */
import type { Consumer } from "./types.ts";

export const setUpTenantDefaults: Consumer = {
  name: "tenant_defaults",
  async handle(client, event) {
    await client.query(
      `insert into app_public.tenant_modules (tenant_id, module, enabled)
       select $1, name, true from app_public.modules
       on conflict (tenant_id, module) do nothing`,
      [event.tenant_id],
    );
  },
};
