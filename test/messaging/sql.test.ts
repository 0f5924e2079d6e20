/**
 * Messaging's SQL tier: row-level security (members only, tenant isolation), the write functions'
 * rules and the unread counts, called as the request role with each caller's claims; every test's
 * transaction is rolled back.
 */
import type pg from "pg";
import {
  a,
  asUser,
  b,
  become,
  type Claims,
  type Client,
  column,
  committedAs,
  createSqlUser,
  db,
  errorCode,
  heldTransaction,
  lockWaiters,
  type SqlUser,
  useSqlTenants,
  value,
} from "../helpers/sql.ts";
import { testPool } from "../helpers/database.ts";
import { until } from "../helpers/wait.ts";

useSqlTenants();

test("only members see a chat, its members and its messages; other tenants see nothing", async () => {
  await asUser(db, a.owner, async (client) => {
    const chat = await value<string>(client, "select id from app_public.create_group_chat('Ops', $1)", [
      [a.admin.userId],
    ]);
    await client.query("select app_public.send_message($1, 'hello')", [chat]);
    const visible = async () => ({
      chats: await column(client, "select id from app_public.chats"),
      members: await column(client, "select user_id from app_public.chat_members order by user_id"),
      messages: await column(client, "select body from app_public.messages"),
    });
    expect((await visible()).messages).toEqual(["hello"]);
    await become(client, a.admin);
    expect((await visible()).members).toEqual([a.owner.userId, a.admin.userId].sort());
    for (const outsider of [a.member, b.owner]) {
      await become(client, outsider);
      expect(await visible()).toEqual({ chats: [], members: [], messages: [] });
      expect(await errorCode(client, "select app_public.send_message($1, 'x')", [chat])).toBe("TNFND");
      expect(await errorCode(client, "select app_public.mark_chat_read($1)", [chat])).toBe("TNFND");
    }
    // Nothing is written directly.
    expect(
      await errorCode(client, "insert into app_public.messages (tenant_id, chat_id, body) values ($1, $2, 'x')", [
        a.id,
        chat,
      ]),
    ).toBe("42501");
  });
});

test("one direct chat per pair; only the sender edits or deletes; the owner manages members", async () => {
  await asUser(db, a.member, async (client) => {
    const first = await value(client, "select id from app_public.start_direct_chat($1)", [a.admin.userId]);
    await become(client, a.admin);
    expect(await value(client, "select id from app_public.start_direct_chat($1)", [a.member.userId])).toBe(first);
    expect(await errorCode(client, "select app_public.start_direct_chat($1)", [b.member.userId])).toBe("TNFND");
    const message = await value<string>(client, "select id from app_public.send_message($1, 'mine')", [first]);
    await become(client, a.member);
    expect(await errorCode(client, "select app_public.edit_message($1, 'theirs')", [message])).toBe("TFORB");
    expect(await errorCode(client, "select app_public.delete_message($1)", [message])).toBe("TFORB");
    expect(await errorCode(client, "select app_public.send_message($1, '   ')", [first])).toBe("TVALD");
    expect(await errorCode(client, "select app_public.send_message($1, repeat('x', 4001))", [first])).toBe("TVALD");
    await become(client, a.admin);
    const deleted = await client.query("select body, deleted_at from app_public.delete_message($1)", [message]);
    expect(deleted.rows[0].body).toBeNull();
    expect(await value(client, "select count(*)::int from app_public.messages where chat_id = $1", [first])).toBe(1);

    const group = await value<string>(client, "select id from app_public.create_group_chat('G', '{}')");
    expect(await errorCode(client, "select app_public.remove_chat_member($1, $2)", [group, a.admin.userId])).toBe(
      "TCONF",
    );
    await client.query("select app_public.add_chat_member($1, $2)", [group, a.member.userId]);
    await become(client, a.member);
    expect(await errorCode(client, "select app_public.add_chat_member($1, $2)", [group, a.owner.userId])).toBe("TFORB");
    // A member may leave; afterwards the chat is gone for them.
    await client.query("select app_public.remove_chat_member($1, $2)", [group, a.member.userId]);
    expect(await column(client, "select id from app_public.chats where id = $1", [group])).toEqual([]);
  });
});

test("unread counts per chat and in total, and one unread notification per chat and recipient", async () => {
  await asUser(db, a.owner, async (client) => {
    const chat = await value<string>(client, "select id from app_public.create_group_chat('Burst', $1)", [
      [a.member.userId],
    ]);
    // Statements of one transaction share now(): the members' read marks are moved before the messages.
    await client.query("reset role");
    await client.query("update app_public.chat_members set last_read_at = last_read_at - interval '1 minute'");
    await client.query(`set local role ${db.urls.visitorRole}`);
    for (let i = 0; i < 50; i++) await client.query("select app_public.send_message($1, $2)", [chat, `m${i}`]);
    const unread = () =>
      value(client, "select app_public.chats_unread_count(c) from app_public.chats c where c.id = $1", [chat]);
    expect(await unread()).toBe(0);
    await become(client, a.member);
    expect(await unread()).toBe(50);
    expect(await value(client, "select app_public.unread_messages_total()")).toBe(50);
    const notifications = () =>
      column(client, "select acked_at is null from app_public.instant_notifications where subject_id = $1", [chat]);
    expect(await notifications()).toEqual([true]);
    await become(client, a.member);
    await client.query("select app_public.mark_chat_read($1)", [chat]);
    expect(await unread()).toBe(0);
    expect(await value(client, "select app_public.unread_messages_total()")).toBe(0);
    expect(await notifications()).toEqual([false]);
  });
});

test("a member who leaves or is removed has the chat's unread notification acknowledged", async () => {
  // Fails on the code before: it stayed unread for good, counted in unreadNotificationsCount and
  // pointing at a chat they can no longer open.
  await asUser(db, a.owner, async (client) => {
    const chat = await value<string>(client, "select id from app_public.create_group_chat('Parting', $1)", [
      [a.member.userId, a.admin.userId],
    ]);
    await client.query("select app_public.send_message($1, 'before you go')", [chat]);
    const unreadOf = async (user: typeof a.member) => {
      await become(client, user);
      return value<number>(client, "select app_public.unread_notifications_count()");
    };
    const before = { member: await unreadOf(a.member), admin: await unreadOf(a.admin) };
    await become(client, a.owner);
    await client.query("select app_public.remove_chat_member($1, $2)", [chat, a.member.userId]);
    await become(client, a.admin);
    await client.query("select app_public.remove_chat_member($1, $2)", [chat, a.admin.userId]);
    expect({ member: await unreadOf(a.member), admin: await unreadOf(a.admin) }).toEqual({
      member: before.member - 1,
      admin: before.admin - 1,
    });
    // The owner, still a member, keeps theirs (none: they sent the message).
    await client.query("reset role");
    expect(
      await column(client, "select acked_at is not null from app_public.instant_notifications where subject_id = $1", [
        chat,
      ]),
    ).toEqual([true, true]);
  });
});

test("a member mutes a chat for themselves: no notification for it until unmuted; unknown users named", async () => {
  await asUser(db, a.owner, async (client) => {
    const chat = await value<string>(client, "select id from app_public.create_group_chat('Quiet', $1)", [
      [a.member.userId, a.admin.userId],
    ]);
    const notified = () =>
      column(client, "select recipient_id from app_public.instant_notifications where subject_id = $1 order by 1", [
        chat,
      ]);
    await become(client, a.member);
    expect(await value(client, "select muted from app_public.set_chat_muted($1, true)", [chat])).toBe(true);
    // Another tenant's member, or a non-member, mutes nothing: the chat is not theirs.
    await become(client, a.manager);
    expect(await errorCode(client, "select app_public.set_chat_muted($1, true)", [chat])).toBe("TNFND");
    await become(client, a.owner);
    await client.query("select app_public.send_message($1, 'hush')", [chat]);
    await client.query("reset role");
    expect(await notified()).toEqual([a.admin.userId]);
    await client.query(`set local role ${db.urls.visitorRole}`);
    await become(client, a.member);
    expect(await value(client, "select muted from app_public.set_chat_muted($1, false)", [chat])).toBe(false);
    await become(client, a.owner);
    await client.query("select app_public.send_message($1, 'again')", [chat]);
    await client.query("reset role");
    expect(await notified()).toEqual([a.admin.userId, a.member.userId].sort());
    await client.query(`set local role ${db.urls.visitorRole}`);
    await become(client, a.owner);
    // Fails on the code before the fix: NOT_FOUND without a field or the id.
    const unknown = "00000000-0000-4000-8000-000000000001";
    await client.query("savepoint s");
    await expect(
      client.query("select app_public.create_group_chat('G', $1)", [[a.member.userId, unknown]]),
    ).rejects.toMatchObject({ code: "TNFND", detail: expect.stringContaining(unknown) });
    await client.query("rollback to savepoint s");
    await expect(
      client.query("select app_public.add_chat_member($1, $2)", [chat, b.member.userId]),
    ).rejects.toMatchObject({ code: "TNFND", detail: '{"field":"userId"}' });
  });
});

/** As the request role with the caller's claims, committed, on a connection of `pool`. */
function committed<T>(pool: pg.Pool, claims: Claims, fn: (client: Client) => Promise<T>): Promise<T> {
  return committedAs(pool, db.urls.visitorRole, (client) => become(client, claims), fn);
}

/** How one statement, committed as `claims`, ends: "done", or the SQLSTATE it failed with. */
function outcome(pool: pg.Pool, claims: Claims, sql: string, params: unknown[]): Promise<string> {
  return committed(pool, claims, (client) => client.query(sql, params)).then(
    () => "done",
    (error: { code?: string }) => error.code ?? String(error),
  );
}

test("a group chat holds at most 200 members, owner included, under parallel adds too", async () => {
  const users = await column<string>(
    db.ownerPool,
    `insert into app_public.users (tenant_id, email, username)
     select $1, 'cap' || g || '@cap.test', 'cap' || g from generate_series(1, 230) g returning id`,
    [a.id],
  );
  const membersOf = (chat: string) =>
    value<number>(db.ownerPool, "select count(*)::int from app_public.chat_members where chat_id = $1", [chat]);
  await asUser(db, a.owner, async (client) => {
    expect(await errorCode(client, "select app_public.create_group_chat('Big', $1)", [users.slice(0, 200)])).toBe(
      "TVALD",
    );
    // At most 200 ids are read, as REST's body takes: one user named 201 times is refused too.
    expect(await errorCode(client, "select app_public.create_group_chat('Big', $1)", [Array(201).fill(users[0])])).toBe(
      "TVALD",
    );
    const chat = await value<string>(client, "select id from app_public.create_group_chat('Big', $1)", [
      users.slice(0, 199),
    ]);
    expect(await value(client, "select count(*)::int from app_public.chat_members where chat_id = $1", [chat])).toBe(
      200,
    );
    // Adding someone already in is still no change, at the cap too.
    expect(await value(client, "select (app_public.add_chat_member($1, $2)).user_id", [chat, users[0]])).toBe(users[0]);
    expect(await errorCode(client, "select app_public.add_chat_member($1, $2)", [chat, users[199]])).toBe("TVALD");
  });
  // 190 in all, then 30 adds at once, each in its own transaction on its own connection: 10 fit.
  const pool = testPool(db.urls.rootUrl, 30);
  try {
    const group = await committed(pool, a.owner, (client) =>
      value<string>(client, "select id from app_public.create_group_chat('Race', $1)", [users.slice(0, 189)]),
    );
    const outcomes = await Promise.all(
      users.slice(189, 219).map((user) =>
        committed(pool, a.owner, (client) =>
          client.query("select app_public.add_chat_member($1, $2)", [group, user]),
        ).then(
          () => "added",
          (error: { code?: string }) => error.code,
        ),
      ),
    );
    expect(outcomes.filter((outcome) => outcome === "added")).toHaveLength(10);
    expect(outcomes.filter((outcome) => outcome !== "added")).toEqual(Array(20).fill("TVALD"));
    expect(await membersOf(group)).toBe(200);
  } finally {
    await pool.end();
  }
});

test("a deleted user leaves their groups, an ownerless group passes on, their direct chat takes no more", async () => {
  const leaving = await createSqlUser(db, a, "member");
  await asUser(db, leaving, async (client) => {
    const group = await value<string>(client, "select id from app_public.create_group_chat('Theirs', $1)", [
      [a.member.userId, a.admin.userId],
    ]);
    const direct = await value<string>(client, "select id from app_public.start_direct_chat($1)", [a.member.userId]);
    await client.query("select app_public.send_message($1, 'before')", [direct]);
    await become(client, a.owner);
    expect(await errorCode(client, "select app_public.delete_user($1)", [leaving.userId])).toBeUndefined();
    // Both joined together, with the group: the lower id counts as the first who joined.
    const [first, second] = [a.member, a.admin].sort((x, y) => (x.userId < y.userId ? -1 : 1)) as [SqlUser, SqlUser];
    await become(client, a.member);
    const members = () =>
      client.query("select user_id, role from app_public.chat_members where chat_id = $1 order by user_id", [group]);
    expect((await members()).rows).toEqual([
      { user_id: first.userId, role: "owner" },
      { user_id: second.userId, role: "member" },
    ]);
    // The new owner manages the group.
    await become(client, first);
    await client.query("select app_public.remove_chat_member($1, $2)", [group, second.userId]);
    expect((await members()).rows).toEqual([{ user_id: first.userId, role: "owner" }]);
    // The direct chat keeps its history and refuses what would reach nobody.
    await become(client, a.member);
    expect(await column(client, "select body from app_public.messages where chat_id = $1", [direct])).toEqual([
      "before",
    ]);
    expect(await errorCode(client, "select app_public.send_message($1, 'after')", [direct])).toBe("TCONF");
  });
});

test("a message deleted after an edit that held its row is not dated before that edit", async () => {
  const pool = testPool(db.urls.rootUrl, 2);
  try {
    const chat = await committed(pool, a.member, (client) =>
      value<string>(client, "select id from app_public.start_direct_chat($1)", [a.admin.userId]),
    );
    const message = await committed(pool, a.member, (client) =>
      value<string>(client, "select id from app_public.send_message($1, 'first')", [chat]),
    );
    // The deletion's transaction begins first and waits for the edit's row lock.
    const deleter = await pool.connect();
    try {
      await deleter.query("begin");
      await deleter.query(`set local role ${db.urls.visitorRole}`);
      await become(deleter, a.member);
      await deleter.query("select now()");
      // The edit's transaction begins after it, so its stamp is the later one.
      await committed(pool, a.member, async (client) => {
        await client.query("select app_public.edit_message($1, 'second')", [message]);
      });
      await deleter.query("select app_public.delete_message($1)", [message]);
      await deleter.query("commit");
    } finally {
      deleter.release();
    }
    const stamps = await db.ownerPool.query(
      "select edited_at <= deleted_at as ordered from app_public.messages where id = $1",
      [message],
    );
    expect(stamps.rows).toEqual([{ ordered: true }]);
  } finally {
    await pool.end();
  }
});

test("a user deleted while being added to a group, or to a new one, is not left a member: the add waits", async () => {
  // Fails on the code before the fix: both adds went through beside the deletion, and the deleted
  // user stayed a member (a group could then pass to them).
  const leaving = await createSqlUser(db, a, "member");
  const group = await committed(db.rootPool, a.member, (client) =>
    value<string>(client, "select id from app_public.create_group_chat('Race', '{}')"),
  );
  const deleting = heldTransaction(db, a.owner, (client) =>
    client.query("select app_public.delete_user($1)", [leaving.userId]),
  );
  await until(deleting.written, "the deletion to be written");
  // Connections of their own: the held deletion and the lock probe take the root pool's two.
  const pool = testPool(db.urls.rootUrl, 2);
  try {
    const adding = outcome(pool, a.member, "select app_public.add_chat_member($1, $2)", [group, leaving.userId]);
    const creating = outcome(pool, a.member, "select app_public.create_group_chat('Race too', $1)", [[leaving.userId]]);
    let ended = false;
    void Promise.all([adding, creating]).then(() => (ended = true));
    await until(async () => ended || (await lockWaiters(db)) >= 2, "both adds to wait, or to end");
    deleting.release();
    await deleting.committed;
    const outcomes = await Promise.all([adding, creating]);
    expect(outcomes).toEqual(["TNFND", "TNFND"]);
  } finally {
    await pool.end();
  }
  expect(
    await column(db.ownerPool, "select chat_id from app_public.chat_members where user_id = $1", [leaving.userId]),
  ).toEqual([]);
});

test("a new group's unknown member is the first unknown id as given", async () => {
  const [later, earlier] = ["ffffffff-0000-4000-8000-000000000000", "00000000-0000-4000-8000-000000000000"];
  await asUser(db, a.member, async (client) => {
    const detail = await client
      .query("select app_public.create_group_chat('Unknown', $1)", [[a.admin.userId, later, earlier]])
      .then(
        () => undefined,
        (error: { detail?: string }) => JSON.parse(error.detail ?? "{}"),
      );
    expect(detail).toEqual({ field: "memberIds", id: later });
  });
});

test("messages sent while an owner removes and adds members take their turns: no deadlock", async () => {
  // Fails on the code before the fix, in most runs: a send's insert share-locked the chat's row
  // through its foreign key (following another send's update of it), an owner's add or removal
  // queued for the row, and PostgreSQL broke the cycle with "deadlock detected" (40P01, a 500).
  const members = await Promise.all(Array.from({ length: 8 }, () => createSqlUser(db, a, "member")));
  const group = await committed(db.rootPool, a.owner, (client) =>
    value<string>(client, "select id from app_public.create_group_chat('Busy', $1)", [
      members.map((member) => member.userId),
    ]),
  );
  const pool = testPool(db.urls.rootUrl, 12);
  try {
    const outcomes: string[] = [];
    for (let round = 0; round < 12; round++) {
      const work = members.flatMap((member) => [
        outcome(pool, member, "select app_public.send_message($1, 'round')", [group]),
        outcome(pool, a.owner, "select app_public.remove_chat_member($1, $2)", [group, member.userId]),
        outcome(pool, a.owner, "select app_public.add_chat_member($1, $2)", [group, member.userId]),
      ]);
      outcomes.push(...(await Promise.all(work)));
    }
    // A send after its sender's removal is NOT_FOUND, a removal after another is NOT_FOUND: never a deadlock.
    expect(outcomes.filter((code) => code !== "done" && code !== "TNFND")).toEqual([]);
  } finally {
    await pool.end();
  }
});
