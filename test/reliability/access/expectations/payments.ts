/** Payments: payments.read (manager, admin, owner) reads them; a bot reads its own bot's. Written by functions. */
import { defineExpectations, NO_GRANT, OWN_ALL } from "../expectations.ts";

const PAYMENTS_READ = {
  anonymous: "none",
  member: "none",
  manager: OWN_ALL,
  admin: OWN_ALL,
  owner: OWN_ALL,
  bot: OWN_ALL,
} as const;

export default defineExpectations("payments", {
  bot_events: { select: PAYMENTS_READ, insert: NO_GRANT, update: NO_GRANT, delete: NO_GRANT },
  payments: { select: PAYMENTS_READ, insert: NO_GRANT, update: NO_GRANT, delete: NO_GRANT },
});
