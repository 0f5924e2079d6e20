/**
 * Messaging's REST routes as data (the route table); rest.ts implements them. Every route is for a
 * signed-in user (bearer) and runs as that user, so the same row-level security as GraphQL applies.
 */
import { z } from "zod";
import { isPrintedTimestamp } from "../../platform/http/listQuery.ts";
import { defineRoute, listQuery, listResponse, type RouteSpec } from "../../platform/http/routeTable.ts";

const user = { tags: ["chats"], security: "bearer" } as const;
const chatParams = z.object({ id: z.uuid() });
/**
 * A page's position: the list and sort it was made for (`listName`), the last row's sort value (a
 * timestamp as PostgreSQL prints it) and id.
 */
const PageCursor = z.strictObject({
  s: z.string().max(100),
  v: z.string().max(64).refine(isPrintedTimestamp),
  id: z.uuid(),
});
export type PageCursor = z.infer<typeof PageCursor>;

export const Chat = z
  .object({
    id: z.uuid(),
    kind: z.enum(["direct", "group"]),
    title: z.string().nullable().describe("A group's title; null for a direct chat"),
    createdAt: z.string(),
    lastMessageAt: z.string().nullable(),
    unreadCount: z.int().min(0).describe("Messages of others since you last read the chat"),
    memberIds: z.array(z.uuid()),
  })
  .meta({ id: "Chat" });

export const Message = z
  .object({
    id: z.uuid(),
    chatId: z.uuid(),
    senderId: z.uuid().nullable(),
    body: z.string().nullable().describe("Null once the message is deleted"),
    imageSha256: z.string().nullable(),
    replyToId: z.uuid().nullable(),
    createdAt: z.string(),
    editedAt: z.string().nullable(),
    deletedAt: z.string().nullable(),
  })
  .meta({ id: "Message" });

export const listChats = defineRoute({
  ...user,
  method: "get",
  path: "/api/chats",
  operationId: "listChats",
  summary: "Your chats, the one with the latest message first",
  query: listQuery({ sort: ["lastMessageAt"], defaultSort: "-lastMessageAt", maxSortKeys: 1, cursor: PageCursor }),
  responses: { 200: { description: "A page of chats", schema: listResponse(Chat) } },
  errors: ["FORBIDDEN"],
});

export const createChat = defineRoute({
  ...user,
  method: "post",
  path: "/api/chats",
  operationId: "createChat",
  summary: "Starts a direct chat with a user (the existing one if any) or creates a group chat",
  body: z.discriminatedUnion("kind", [
    z.strictObject({ kind: z.literal("direct"), userId: z.uuid() }),
    z.strictObject({
      kind: z.literal("group"),
      title: z.string().min(1).max(200),
      memberIds: z.array(z.uuid()).max(200),
    }),
  ]),
  responses: {
    201: { description: "A new chat", schema: Chat },
    200: { description: "The existing direct chat with this user", schema: Chat },
  },
  errors: ["FORBIDDEN", "NOT_FOUND"],
});

export const listMessages = defineRoute({
  ...user,
  method: "get",
  path: "/api/chats/{id}/messages",
  operationId: "listMessages",
  summary: "A chat's messages, newest first by default",
  params: chatParams,
  query: listQuery({ sort: ["createdAt"], defaultSort: "-createdAt", maxSortKeys: 1, cursor: PageCursor }),
  responses: { 200: { description: "A page of messages", schema: listResponse(Message) } },
  errors: ["FORBIDDEN", "NOT_FOUND"],
});

export const sendMessage = defineRoute({
  ...user,
  method: "post",
  path: "/api/chats/{id}/messages",
  operationId: "sendChatMessage",
  summary: "Sends a message to one of your chats",
  params: chatParams,
  body: z.strictObject({
    body: z.string().min(1).max(4000),
    imageSha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
    replyToId: z.uuid().optional(),
  }),
  responses: { 201: { description: "The message", schema: Message } },
  errors: ["FORBIDDEN", "NOT_FOUND"],
});

export const markChatRead = defineRoute({
  ...user,
  method: "post",
  path: "/api/chats/{id}/read",
  operationId: "markChatRead",
  summary: "Marks one of your chats read up to now",
  params: chatParams,
  responses: {
    200: {
      description: "Your membership's read mark",
      schema: z.object({ chatId: z.uuid(), lastReadAt: z.string(), unreadCount: z.int().min(0) }),
    },
  },
  errors: ["FORBIDDEN", "NOT_FOUND"],
});

export const MESSAGING_API: readonly RouteSpec[] = [listChats, createChat, listMessages, sendMessage, markChatRead];
