/**
 * Messaging: a chat, its members and its messages are read by the chat's members only (the member and
 * the manager are in the group; the owner and the admin in the group and their direct chat). Written
 * by functions.
 */
import { defineExpectations, NO_GRANT, OWN_ALL, OWN_SOME } from "../expectations.ts";

const CHAT_MEMBERS_READ = {
  anonymous: "none",
  member: OWN_SOME,
  manager: OWN_SOME,
  admin: OWN_ALL,
  owner: OWN_ALL,
  bot: "denied",
} as const;

const READ_ONLY = { select: CHAT_MEMBERS_READ, insert: NO_GRANT, update: NO_GRANT, delete: NO_GRANT };

export default defineExpectations("messaging", {
  chat_members: READ_ONLY,
  chats: READ_ONLY,
  messages: READ_ONLY,
});
