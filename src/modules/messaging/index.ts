/**
 * Messaging: direct and group chats between the users of a tenant. Chats, members and messages are
 * tables read under row-level security (members only) through the generated GraphQL API; every
 * write is an SQL function (startDirectChat, createGroupChat, addChatMember, removeChatMember,
 * sendMessage, editMessage, deleteMessage, markChatRead). `chatMessageAdded(chatId)` delivers a
 * chat's messages live; REST routes under /api/chats run as the user (docs/messaging.md).
 */
import type { ModuleManifest } from "../../platform/modules.ts";
import { MESSAGING_API } from "./api.ts";
import { MessagingPlugin } from "./graphql.ts";
import { messagingImplementations, userRunner } from "./rest.ts";

export const messaging: ModuleManifest = {
  name: "messaging",
  api: MESSAGING_API,
  graphqlPlugins: [MessagingPlugin],
  server({ config, requestPool, database }) {
    const asUser = userRunner(requestPool, database.visitorRole, config.graphql.statementTimeoutMs);
    return { implementations: () => messagingImplementations(asUser) };
  },
};
