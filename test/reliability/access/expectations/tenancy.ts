/** Tenancy: the module catalogue (shared), the tenants and which modules each has on. */
import { defineExpectations, NO_GRANT, OWN_ALL, OWN_WRITE } from "../expectations.ts";

export default defineExpectations("tenancy", {
  // The catalogue of modules, the same for every tenant: anyone may read it (the bot has no need to).
  modules: {
    shared: true,
    select: { anonymous: "all", member: "all", manager: "all", admin: "all", owner: "all", bot: "denied" },
    insert: NO_GRANT,
    update: NO_GRANT,
    delete: NO_GRANT,
  },
  // Members read their tenant's modules; modules.manage (admin, owner) switches them, never another tenant's.
  tenant_modules: {
    select: { anonymous: "none", member: OWN_ALL, manager: OWN_ALL, admin: OWN_ALL, owner: OWN_ALL, bot: "denied" },
    insert: {
      anonymous: "denied",
      member: "denied",
      manager: "denied",
      admin: ["allowed", "denied"],
      owner: ["allowed", "denied"],
      bot: "denied",
    },
    update: { anonymous: "none", member: "none", manager: "none", admin: OWN_WRITE, owner: OWN_WRITE, bot: "denied" },
    delete: NO_GRANT,
  },
  // A member sees their own tenant only; tenants are made by the bootstrap and registration, not by requests.
  tenants: {
    select: { anonymous: "none", member: OWN_ALL, manager: OWN_ALL, admin: OWN_ALL, owner: OWN_ALL, bot: "denied" },
    insert: NO_GRANT,
    update: NO_GRANT,
    delete: NO_GRANT,
  },
});
