/**
 * Messaging over real HTTP and graphql-ws: members only (GraphQL, REST, subscriptions), one direct
 * chat per pair, sender-only edits, unread counts and grouped notifications, live delivery, and a
 * removed member's subscription ending at once.
 */
import { randomUUID } from "node:crypto";
import type { Client } from "graphql-ws";
import { errorCodes, gql } from "../commerce/store.ts";
import { firstOutcome, startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestTenant, type TestUser } from "../helpers/fixtures.ts";
import { until } from "../helpers/wait.ts";
import {
  ADD_MEMBER,
  CHAT,
  CREATE_GROUP,
  DELETE,
  EDIT,
  HISTORY,
  MARK_READ,
  MESSAGES,
  MY_CHATS,
  REMOVE_MEMBER,
  rest,
  SEND,
  START_DIRECT,
  SUBSCRIBE,
} from "./helpers.ts";

let app: TestApp;
let ann: TestUser;
let bob: TestUser;
let cat: TestUser;
let outsider: TestUser;
let stranger: TestUser;
let tenant: TestTenant;

beforeAll(async () => {
  app = await startTestApp();
  tenant = await createTenant(app.db.ownerPool);
  const other = await createTenant(app.db.ownerPool);
  [ann, bob, cat, outsider] = await Promise.all([
    createUser(app.db.ownerPool, tenant),
    createUser(app.db.ownerPool, tenant),
    createUser(app.db.ownerPool, tenant),
    createUser(app.db.ownerPool, tenant),
  ]);
  stranger = await createUser(app.db.ownerPool, other);
}, 60_000);

afterAll(() => app.stop());

async function group(owner: TestUser, members: TestUser[], title = "Team"): Promise<string> {
  const data = await gql(app, owner.token, CREATE_GROUP, { title, memberIds: members.map((m) => m.id) });
  return data.createGroupChat.chat.rowId as string;
}

async function send(sender: TestUser, chatId: string, body: string): Promise<string> {
  const data = await gql(app, sender.token, SEND, { chatId, body });
  return data.sendMessage.message.rowId as string;
}

type Received = { events: Array<{ event: string; message: { rowId: string; body: string | null } | null }> };

/** Subscribes to a chat's messages; collects events, errors and completion. */
function follow(client: Client, chatId: string) {
  const state: Received & { errors: unknown[]; completed: boolean } = { events: [], errors: [], completed: false };
  client.subscribe(
    { query: SUBSCRIBE, variables: { chatId } },
    {
      next: (value) => {
        if (value.errors) state.errors.push(value.errors);
        const data = value.data as { chatMessageAdded: Received["events"][number] } | undefined;
        if (data?.chatMessageAdded) state.events.push(data.chatMessageAdded);
      },
      error: (error) => state.errors.push(error),
      complete: () => {
        state.completed = true;
      },
    },
  );
  return state;
}

/**
 * Resolves once every subscription is live: probes are sent until each has received one (a message
 * sent before a subscription's LISTEN is never delivered to it). Late probes may still arrive.
 */
async function live(chatId: string, sender: TestUser, ...states: Array<Received>): Promise<void> {
  await until(async () => {
    await send(sender, chatId, "probe");
    return states.every((state) => state.events.length > 0);
  }, "every subscription to receive a probe");
}

test("one direct chat per pair of users, whoever starts it", async () => {
  const first = await gql(app, ann.token, START_DIRECT, { userId: bob.id });
  const again = await gql(app, ann.token, START_DIRECT, { userId: bob.id });
  const reverse = await gql(app, bob.token, START_DIRECT, { userId: ann.id });
  expect(first.startDirectChat.chat.kind).toBe("direct");
  expect(again.startDirectChat.chat.rowId).toBe(first.startDirectChat.chat.rowId);
  expect(reverse.startDirectChat.chat.rowId).toBe(first.startDirectChat.chat.rowId);
  // Over REST: 201 the first time, 200 with the same chat afterwards.
  const created = await rest(app, cat.token, "POST", "/api/chats", { kind: "direct", userId: bob.id });
  const existing = await rest(app, bob.token, "POST", "/api/chats", { kind: "direct", userId: cat.id });
  expect([created.status, existing.status]).toEqual([201, 200]);
  expect(existing.body.id).toBe(created.body.id);
  expect([...(created.body.memberIds as string[])].sort()).toEqual([bob.id, cat.id].sort());
  // Not with oneself, nor with another tenant's user.
  expect(errorCodes((await app.graphql(START_DIRECT, { userId: ann.id }, ann.token)).body)).toEqual([
    "VALIDATION_FAILED",
  ]);
  expect(errorCodes((await app.graphql(START_DIRECT, { userId: stranger.id }, ann.token)).body)).toEqual(["NOT_FOUND"]);
});

test("a new pair's direct chat asked for in parallel over REST: one chat, one 201, 200 for the others", async () => {
  const [dan, eve] = await Promise.all([createUser(app.db.ownerPool, tenant), createUser(app.db.ownerPool, tenant)]);
  const answers = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      i % 2
        ? rest(app, dan.token, "POST", "/api/chats", { kind: "direct", userId: eve.id })
        : rest(app, eve.token, "POST", "/api/chats", { kind: "direct", userId: dan.id }),
    ),
  );
  expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1);
  expect(answers.map((answer) => answer.status).sort()).toEqual([...Array<number>(19).fill(200), 201]);
});

test("a non-member sees no chat, member or message through GraphQL or REST, and cannot subscribe", async () => {
  const chatId = await group(ann, [bob]);
  await send(bob, chatId, "hello team");
  for (const user of [outsider, stranger]) {
    const { body } = await app.graphql(CHAT, { id: chatId }, user.token);
    expect(body.data?.chat).toBeNull();
    const lists = await gql(app, user.token, MESSAGES);
    expect(lists.messages.nodes.concat(lists.chatMembers.nodes, lists.chats.nodes)).toEqual([]);
    expect((await gql(app, user.token, MY_CHATS)).myChats.nodes).toEqual([]);
    expect((await rest(app, user.token, "GET", `/api/chats/${chatId}/messages`)).status).toBe(404);
    expect((await rest(app, user.token, "GET", "/api/chats")).body.items).toEqual([]);
    const post = await rest(app, user.token, "POST", `/api/chats/${chatId}/messages`, { body: "let me in" });
    expect([post.status, post.body.error?.code ?? post.body.code]).toEqual([404, "NOT_FOUND"]);
    expect((await rest(app, user.token, "POST", `/api/chats/${chatId}/read`)).status).toBe(404);
    expect(errorCodes((await app.graphql(SEND, { chatId, body: "hi" }, user.token)).body)).toEqual(["NOT_FOUND"]);
    const outcome = await firstOutcome(
      app.wsClient(user.token),
      `subscription { chatMessageAdded(chatId: "${chatId}")
      { message { rowId } } }`,
    );
    expect(JSON.stringify(outcome)).toContain("NOT_FOUND");
  }
  // Signed out: 401 over REST.
  expect((await rest(app, undefined, "GET", "/api/chats")).status).toBe(401);
  // The members see it all.
  const seen = await gql(app, bob.token, CHAT, { id: chatId });
  expect(seen.chat.members.nodes).toHaveLength(2);
  expect(seen.chat.messages.nodes.map((m: { body: string }) => m.body)).toEqual(["hello team"]);
});

test("a member receives over graphql-ws a message sent through REST, then its edit and deletion", async () => {
  const chatId = await group(ann, [bob], "Live");
  const received = follow(app.wsClient(bob.token), chatId);
  await live(chatId, ann, received);
  const sent = await rest(app, ann.token, "POST", `/api/chats/${chatId}/messages`, { body: "over REST" });
  expect(sent.status).toBe(201);
  const id = sent.body.id as string;
  const events = () => received.events.filter((e) => e.message?.rowId === id);
  await until(() => events().length >= 1, "the message over the subscription");
  await gql(app, ann.token, EDIT, { id, body: "edited" });
  await until(() => events().length >= 2, "the edit over the subscription");
  await gql(app, ann.token, DELETE, { id });
  await until(() => events().length >= 3, "the deletion over the subscription");
  expect(received.errors).toEqual([]);
  // Each event shows the message as it is when read: the last one is the deleted message.
  expect(events().map((e) => e.event)).toEqual(["created", "edited", "deleted"]);
  expect(events()[2]!.message!.body).toBeNull();
});

test("a member removed from the chat stops receiving at once; the others go on", async () => {
  const chatId = await group(ann, [bob, cat], "Shrinking");
  const bobs = follow(app.wsClient(bob.token), chatId);
  const cats = follow(app.wsClient(cat.token), chatId);
  // Both subscriptions are live once each has received a message sent after it began.
  await until(async () => {
    await send(ann, chatId, "probe");
    return bobs.events.length > 0 && cats.events.length > 0;
  }, "both subscriptions to receive a probe");
  await gql(app, ann.token, REMOVE_MEMBER, { chatId, userId: bob.id });
  await until(() => bobs.completed, "the removed member's subscription to complete");
  const bobsCount = bobs.events.length;
  const after = await send(ann, chatId, "after the removal");
  await until(() => cats.events.some((e) => e.message?.rowId === after), "the remaining member to receive");
  expect(bobs.events).toHaveLength(bobsCount);
  expect(bobs.events.some((e) => e.message?.rowId === after)).toBe(false);
  expect(bobs.errors).toEqual([]);
  // Nor can Bob read it any more, nor subscribe again.
  expect((await app.graphql(CHAT, { id: chatId }, bob.token)).body.data?.chat).toBeNull();
  const again = await firstOutcome(
    app.wsClient(bob.token),
    `subscription { chatMessageAdded(chatId: "${chatId}")
    { message { rowId } } }`,
  );
  expect(JSON.stringify(again)).toContain("NOT_FOUND");
});

test("messaging switched off ends the tenant's chat subscriptions at once; another tenant's go on", async () => {
  const own = await createTenant(app.db.ownerPool);
  const [dan, eve] = await Promise.all([createUser(app.db.ownerPool, own), createUser(app.db.ownerPool, own)]);
  const chatId = await group(dan, [eve], "Switched off");
  const otherChat = await group(ann, [bob], "Still on");
  const eves = follow(app.wsClient(eve.token), chatId);
  const bobs = follow(app.wsClient(bob.token), otherChat);
  await live(chatId, dan, eves);
  await live(otherChat, ann, bobs);
  await app.db.ownerPool.query(
    "update app_public.tenant_modules set enabled = false where tenant_id = $1 and module = 'messaging'",
    [own.id],
  );
  await until(() => eves.completed, "the subscription to complete when messaging is switched off");
  expect(eves.errors).toEqual([]);
  const after = await send(ann, otherChat, "another tenant's");
  await until(() => bobs.events.some((e) => e.message?.rowId === after), "the other tenant's member to receive");
  expect(bobs.completed).toBe(false);
});

test("only a group's owner adds and removes members; only the sender edits or deletes", async () => {
  const chatId = await group(ann, [bob]);
  expect(errorCodes((await app.graphql(ADD_MEMBER, { chatId, userId: cat.id }, bob.token)).body)).toEqual([
    "FORBIDDEN",
  ]);
  expect(errorCodes((await app.graphql(REMOVE_MEMBER, { chatId, userId: ann.id }, bob.token)).body)).toEqual([
    "FORBIDDEN",
  ]);
  expect(errorCodes((await app.graphql(ADD_MEMBER, { chatId, userId: cat.id }, outsider.token)).body)).toEqual([
    "NOT_FOUND",
  ]);
  await gql(app, ann.token, ADD_MEMBER, { chatId, userId: cat.id });
  const id = await send(bob, chatId, "mine");
  for (const user of [ann, cat]) {
    expect(errorCodes((await app.graphql(EDIT, { id, body: "theirs" }, user.token)).body)).toEqual(["FORBIDDEN"]);
    expect(errorCodes((await app.graphql(DELETE, { id }, user.token)).body)).toEqual(["FORBIDDEN"]);
  }
  expect(errorCodes((await app.graphql(EDIT, { id, body: "x" }, stranger.token)).body)).toEqual(["NOT_FOUND"]);
  const edited = await gql(app, bob.token, EDIT, { id, body: "mine, edited" });
  expect(edited.editMessage.message.body).toBe("mine, edited");
  expect(errorCodes((await app.graphql(EDIT, { id, body: "   " }, bob.token)).body)).toEqual(["VALIDATION_FAILED"]);
  const deleted = await gql(app, bob.token, DELETE, { id });
  expect(deleted.deleteMessage.message.body).toBeNull();
  expect(deleted.deleteMessage.message.deletedAt).not.toBeNull();
  // A deleted message keeps its place in the history.
  const history = await rest(app, ann.token, "GET", `/api/chats/${chatId}/messages`);
  expect(history.body.items.map((m: { id: string; body: string | null }) => [m.id, m.body])).toEqual([[id, null]]);
  expect(errorCodes((await app.graphql(EDIT, { id, body: "back" }, bob.token)).body)).toEqual(["CONFLICT"]);
});

test("unread counts after a burst of 50 messages and after markChatRead, with one notification per chat", async () => {
  const chatId = await group(ann, [bob, cat], "Burst");
  for (let i = 0; i < 50; i++) {
    const answer = await rest(app, ann.token, "POST", `/api/chats/${chatId}/messages`, { body: `message ${i}` });
    expect(answer.status).toBe(201);
  }
  const unread = async (user: TestUser) => {
    const data = await gql(app, user.token, MY_CHATS);
    const chat = data.myChats.nodes.find((c: { rowId: string }) => c.rowId === chatId);
    return { chat: chat?.unreadCount as number, total: data.unreadMessagesTotal as number };
  };
  const bobBefore = await unread(bob);
  expect(bobBefore.chat).toBe(50);
  expect((await unread(ann)).chat).toBe(0);
  // The chat with the latest message comes first, over GraphQL and REST.
  expect((await gql(app, bob.token, MY_CHATS)).myChats.nodes[0].rowId).toBe(chatId);
  const listed = await rest(app, bob.token, "GET", "/api/chats");
  expect([listed.body.items[0].id, listed.body.items[0].unreadCount]).toEqual([chatId, 50]);
  // One unread notification per chat and recipient, not fifty.
  const notifications = async (user: TestUser) => {
    const { rows } = await app.db.ownerPool.query(
      `select content, acked_at from app_public.instant_notifications
        where recipient_id = $1 and kind = 'chat_message' and subject_id = $2`,
      [user.id, chatId],
    );
    return rows;
  };
  // It names the sender, never the text (an edit or a deletion could not reach a copy).
  expect(await notifications(bob)).toEqual([{ content: expect.stringMatching(/^New message from /), acked_at: null }]);
  expect(JSON.stringify(await notifications(bob))).not.toContain("message 49");
  expect(await notifications(ann)).toEqual([]);

  const read = await rest(app, bob.token, "POST", `/api/chats/${chatId}/read`);
  expect([read.status, read.body.unreadCount]).toEqual([200, 0]);
  expect((await unread(bob)).chat).toBe(0);
  expect((await unread(bob)).total).toBe(bobBefore.total - 50);
  expect((await notifications(bob))[0].acked_at).not.toBeNull();
  expect((await unread(cat)).chat).toBe(50);
  await gql(app, cat.token, MARK_READ, { chatId });
  expect((await unread(cat)).chat).toBe(0);

  // A new message after reading: one new unread notification, and one unread message.
  await send(ann, chatId, "one more");
  expect((await unread(bob)).chat).toBe(1);
  expect(await notifications(bob)).toEqual([{ content: expect.stringMatching(/^New message from /), acked_at: null }]);
});

test("history pages newest first by cursor, over GraphQL and REST", async () => {
  const chatId = await group(ann, [bob], "History");
  for (let i = 0; i < 5; i++) await send(ann, chatId, `m${i}`);
  const first = await gql(app, bob.token, HISTORY, { id: chatId });
  const page1 = first.chat.messages;
  expect(page1.nodes.map((m: { body: string }) => m.body)).toEqual(["m4", "m3", "m2"]);
  const second = await gql(app, bob.token, HISTORY, { id: chatId, after: page1.pageInfo.endCursor });
  expect(second.chat.messages.nodes.map((m: { body: string }) => m.body)).toEqual(["m1", "m0"]);

  const restPage1 = await rest(app, bob.token, "GET", `/api/chats/${chatId}/messages?limit=2`);
  expect(restPage1.body.items.map((m: { body: string }) => m.body)).toEqual(["m4", "m3"]);
  const cursor = encodeURIComponent(restPage1.body.nextCursor as string);
  const restPage2 = await rest(app, bob.token, "GET", `/api/chats/${chatId}/messages?limit=2&cursor=${cursor}`);
  expect(restPage2.body.items.map((m: { body: string }) => m.body)).toEqual(["m2", "m1"]);
  expect((await rest(app, bob.token, "GET", `/api/chats/${randomUUID()}/messages`)).status).toBe(404);
  // A forged time is no cursor of ours: not one PostgreSQL would move (24:00, :60) or cannot read.
  for (const v of ["2026-12-04 24:00:00+00", "2026-12-04 15:10:60+00", "2026-02-30 10:00:00+00", "not a time"]) {
    const forged = (s: string) => Buffer.from(JSON.stringify({ s, v, id: randomUUID() })).toString("base64url");
    for (const path of [
      `/api/chats/${chatId}/messages?cursor=${forged(`messages:${chatId}:createdAt:desc`)}`,
      `/api/chats?cursor=${forged("chats:lastMessageAt:desc")}`,
    ]) {
      const answer = await rest(app, bob.token, "GET", path);
      expect([v, answer.status, answer.body.error?.details?.fields]).toEqual([
        v,
        400,
        { cursor: "is not a cursor this list gave" },
      ]);
    }
  }
});

test("a REST cursor is refused by another chat's messages, another sort and the chat list", async () => {
  const chatId = await group(ann, [bob], "Cursor");
  const otherChat = await group(ann, [bob], "Other");
  for (let i = 0; i < 3; i++) await send(ann, chatId, `c${i}`);
  await send(ann, otherChat, "elsewhere");
  const page = await rest(app, bob.token, "GET", `/api/chats/${chatId}/messages?limit=1`);
  const cursor = encodeURIComponent(page.body.nextCursor as string);
  for (const path of [
    `/api/chats/${chatId}/messages?limit=1&sort=createdAt&cursor=${cursor}`,
    `/api/chats/${otherChat}/messages?limit=1&cursor=${cursor}`,
    `/api/chats?limit=1&cursor=${cursor}`,
  ]) {
    const answer = await rest(app, bob.token, "GET", path);
    expect([path, answer.status, answer.body.error?.details?.fields]).toEqual([
      path,
      400,
      { cursor: "was made for another list or sort" },
    ]);
  }
  // Only as this list wrote it: a key given twice (the last one read), a space or the same keys in
  // another order is no cursor of ours.
  const text = Buffer.from(page.body.nextCursor as string, "base64url").toString("utf8");
  const reversed = JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(text)).reverse()));
  for (const forged of [`{"s":"chats:lastMessageAt:desc",${text.slice(1)}`, `{ ${text.slice(1)}`, reversed]) {
    const answer = await rest(
      app,
      bob.token,
      "GET",
      `/api/chats/${chatId}/messages?limit=1&cursor=${Buffer.from(forged).toString("base64url")}`,
    );
    expect([forged, answer.status, answer.body.error?.details?.fields]).toEqual([
      forged,
      400,
      { cursor: "is not a cursor this list gave" },
    ]);
  }
  // The same list in either case of its id is the same list.
  const upper = await rest(
    app,
    bob.token,
    "GET",
    `/api/chats/${chatId.toUpperCase()}/messages?limit=1&cursor=${cursor}`,
  );
  expect(upper.body.items.map((m: { body: string }) => m.body)).toEqual(["c1"]);
});

test("another tenant's user sees nothing and reaches nobody", async () => {
  const chatId = await group(ann, [bob], "Tenant");
  await send(ann, chatId, "inside");
  expect((await gql(app, stranger.token, MESSAGES)).messages.nodes).toEqual([]);
  expect(
    errorCodes((await app.graphql(CREATE_GROUP, { title: "x", memberIds: [ann.id] }, stranger.token)).body),
  ).toEqual(["NOT_FOUND"]);
  const answer = await rest(app, stranger.token, "POST", "/api/chats", { kind: "direct", userId: ann.id });
  expect(answer.status).toBe(404);
});

test("the tenant's system user is nobody to chat with; a body of invisible characters is blank", async () => {
  const { rows } = await app.db.ownerPool.query<{ id: string }>(
    "select id from app_public.users where tenant_id = $1 and is_system",
    [ann.tenantId],
  );
  const system = rows[0]!.id;
  expect(errorCodes((await app.graphql(START_DIRECT, { userId: system }, ann.token)).body)).toEqual(["NOT_FOUND"]);
  const withSystem = await app.graphql(CREATE_GROUP, { title: "With the system", memberIds: [system] }, ann.token);
  expect(errorCodes(withSystem.body)).toEqual(["NOT_FOUND"]);
  const chatId = await group(ann, [bob], "Invisible");
  expect(errorCodes((await app.graphql(ADD_MEMBER, { chatId, userId: system }, ann.token)).body)).toEqual([
    "NOT_FOUND",
  ]);
  for (const body of ["\u200b\u200b", "\u00a0\u3000", "\u202e", " \u2060 "]) {
    const answer = await app.graphql(SEND, { chatId, body }, ann.token);
    expect([JSON.stringify(body), errorCodes(answer.body)]).toEqual([JSON.stringify(body), ["VALIDATION_FAILED"]]);
  }
  expect(errorCodes((await app.graphql(SEND, { chatId, body: "\u202eok" }, ann.token)).body)).toEqual([]);
});

test("a null among a new group's memberIds is VALIDATION_FAILED NULL_ITEM, and no chat is made", async () => {
  // Fails on the code before the fix: the nulls were dropped and the group made without a word.
  const before = await app.db.ownerPool.query("select count(*)::int as n from app_public.chats where tenant_id = $1", [
    tenant.id,
  ]);
  for (const memberIds of [[bob.id, null], [null]]) {
    const answer = await app.graphql(CREATE_GROUP, { title: "Nulls", memberIds }, ann.token);
    expect(answer.body.errors?.[0]?.extensions).toEqual({
      code: "VALIDATION_FAILED",
      details: { field: "memberIds", reason: "NULL_ITEM" },
    });
  }
  const after = await app.db.ownerPool.query("select count(*)::int as n from app_public.chats where tenant_id = $1", [
    tenant.id,
  ]);
  expect(after.rows[0].n).toBe(before.rows[0].n);
});
