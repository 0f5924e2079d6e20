/** Notifications: each person reads their own; they are written by jobs and acknowledged through functions. */
import { defineExpectations, NO_GRANT, OWN_SOME } from "../expectations.ts";

export default defineExpectations("notifications", {
  instant_notifications: {
    select: {
      anonymous: "none",
      member: OWN_SOME,
      manager: OWN_SOME,
      admin: OWN_SOME,
      owner: OWN_SOME,
      bot: "denied",
    },
    insert: NO_GRANT,
    update: NO_GRANT,
    delete: NO_GRANT,
  },
});
