/**
 * Broadcasts: broadcasts.manage (admin, owner) reads them and their deliveries and creates them (the
 * tenant taken from the caller). A copy of the other tenant's broadcast names its bot, which the check
 * trigger refuses (VALIDATION_FAILED) before row-level security is reached; that trigger also runs
 * first for callers without the permission, and for anonymous callers, who have no tenant.
 */
import { defineExpectations, NO_GRANT, OWN_ALL } from "../expectations.ts";

export default defineExpectations("broadcasts", {
  broadcast_deliveries: {
    select: { anonymous: "none", member: "none", manager: "none", admin: OWN_ALL, owner: OWN_ALL, bot: "denied" },
    insert: NO_GRANT,
    update: NO_GRANT,
    delete: NO_GRANT,
  },
  broadcasts: {
    select: { anonymous: "none", member: "none", manager: "none", admin: OWN_ALL, owner: OWN_ALL, bot: "denied" },
    insert: {
      anonymous: "refused",
      member: ["denied", "refused"],
      manager: ["denied", "refused"],
      admin: ["allowed", "refused"],
      owner: ["allowed", "refused"],
      bot: "denied",
    },
    update: NO_GRANT,
    delete: NO_GRANT,
  },
});
