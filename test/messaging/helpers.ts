/** The messaging tests' GraphQL documents and REST calls (real HTTP against the test app). */
import type { TestApp } from "../helpers/app.ts";

export const START_DIRECT = `mutation($userId: UUID!) {
  startDirectChat(input: { userId: $userId }) { chat { rowId kind } } }`;
export const CREATE_GROUP = `mutation($title: String!, $memberIds: [UUID]!) {
  createGroupChat(input: { title: $title, memberIds: $memberIds }) { chat { rowId kind title } } }`;
export const ADD_MEMBER = `mutation($chatId: UUID!, $userId: UUID!) {
  addChatMember(input: { chatId: $chatId, userId: $userId }) { chatMember { userId role } } }`;
export const REMOVE_MEMBER = `mutation($chatId: UUID!, $userId: UUID!) {
  removeChatMember(input: { chatId: $chatId, userId: $userId }) { chat { rowId } } }`;
export const SEND = `mutation($chatId: UUID!, $body: String!) {
  sendMessage(input: { chatId: $chatId, body: $body }) { message { rowId body } } }`;
export const EDIT = `mutation($id: UUID!, $body: String!) {
  editMessage(input: { messageId: $id, body: $body }) { message { rowId body editedAt } } }`;
export const DELETE = `mutation($id: UUID!) {
  deleteMessage(input: { messageId: $id }) { message { rowId body deletedAt } } }`;
export const MARK_READ = `mutation($chatId: UUID!) {
  markChatRead(input: { chatId: $chatId }) { chatMember { lastReadAt } } }`;
export const MY_CHATS = `{ myChats { nodes { rowId kind title unreadCount } } unreadMessagesTotal }`;
export const CHAT = `query($id: UUID!) {
  chat(rowId: $id) { rowId members { nodes { userId role } } messages(first: 10) { nodes { rowId body } } } }`;
export const MESSAGES = `{ messages { nodes { rowId } } chatMembers { nodes { chatId } } chats { nodes { rowId } } }`;
export const HISTORY = `query($id: UUID!, $after: Cursor) { chat(rowId: $id) {
  messages(first: 3, after: $after, orderBy: [CREATED_AT_DESC, ROW_ID_DESC]) {
    nodes { rowId body } pageInfo { hasNextPage endCursor } } } }`;
export const SUBSCRIBE = `subscription($chatId: UUID!) {
  chatMessageAdded(chatId: $chatId) { event message { rowId body deletedAt } } }`;

// biome-ignore lint/suspicious/noExplicitAny: test answers are read field by field, as JSON
type Json = Record<string, any>;

export async function rest(
  app: TestApp,
  token: string | undefined,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${app.url}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Json) : {} };
}
