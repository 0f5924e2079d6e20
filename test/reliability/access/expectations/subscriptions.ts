/**
 * Subscriptions: every member reads the plans of the catalogue; orders.read and the store's bots read
 * the customers' subscriptions. Written by the sync and issue jobs only.
 */
import { defineExpectations, NO_GRANT, OWN_ALL } from "../expectations.ts";

export default defineExpectations("subscriptions", {
  subscription_plans: {
    select: { anonymous: "none", member: OWN_ALL, manager: OWN_ALL, admin: OWN_ALL, owner: OWN_ALL, bot: "denied" },
    insert: NO_GRANT,
    update: NO_GRANT,
    delete: NO_GRANT,
  },
  subscriptions: {
    select: { anonymous: "none", member: "none", manager: OWN_ALL, admin: OWN_ALL, owner: OWN_ALL, bot: OWN_ALL },
    insert: NO_GRANT,
    update: NO_GRANT,
    delete: NO_GRANT,
  },
});
