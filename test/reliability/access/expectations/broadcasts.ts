/**
 * Broadcasts: broadcasts.manage (admin, owner) reads them and their deliveries and creates them (the
 * tenant taken from the caller). The check trigger runs before row-level security: it refuses a
 * caller without the permission (FORBIDDEN) and an anonymous one (UNAUTHENTICATED) before it looks at
 * the bot, so that they learn nothing of it (migration 000042); a copy of the other tenant's
 * broadcast by an admin is refused as well.
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
      member: "refused",
      manager: "refused",
      admin: ["allowed", "refused"],
      owner: ["allowed", "refused"],
      bot: "denied",
    },
    update: NO_GRANT,
    delete: NO_GRANT,
  },
});
