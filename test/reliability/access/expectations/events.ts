/**
 * Events: members see the events that are not cancelled and their own participation; events.manage
 * (manager, admin, owner) sees every event and participant of the tenant. Writes go through functions.
 */
import { defineExpectations, NO_GRANT, OWN_ALL, OWN_SOME } from "../expectations.ts";

const MEMBER_SOME_MANAGERS_ALL = {
  anonymous: "none",
  member: OWN_SOME,
  manager: OWN_ALL,
  admin: OWN_ALL,
  owner: OWN_ALL,
  bot: "denied",
} as const;

export default defineExpectations("events", {
  event_participants: { select: MEMBER_SOME_MANAGERS_ALL, insert: NO_GRANT, update: NO_GRANT, delete: NO_GRANT },
  events: { select: MEMBER_SOME_MANAGERS_ALL, insert: NO_GRANT, update: NO_GRANT, delete: NO_GRANT },
});
