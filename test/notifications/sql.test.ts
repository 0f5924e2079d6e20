/**
 * The notifications module's SQL, called as each role in a rolled-back transaction: a user sees,
 * counts and acknowledges their own notifications only. Live delivery over subscriptions and the
 * notifications the events module writes are in test/events/notifications.test.ts.
 */
import {
  a,
  asAnonymous,
  asRoot,
  asUser,
  b,
  become,
  type Client,
  column,
  db,
  errorCode,
  type SqlUser,
  useSqlTenants,
  value,
} from "../helpers/sql.ts";

useSqlTenants();

/** A notification for `to`, written inside the open transaction as the modules that notify do. */
async function notify(client: Client, to: SqlUser, title = "Hello"): Promise<string> {
  const insert = `insert into app_public.instant_notifications (tenant_id, recipient_id, kind, title, content)
    values ($1, $2, 'test_message', $3, 'Some text') returning id`;
  const [row] = await asRoot<{ id: string }>(db, client, insert, [to.tenantId, to.userId, title]);
  return row!.id;
}

const visible = (client: Client) =>
  column<string>(client, "select id from app_public.instant_notifications order by id");
const unread = (client: Client) => value<number>(client, "select app_public.unread_notifications_count()");
const ack = (client: Client, id: string) => errorCode(client, "select app_public.ack_notification($1)", [id]);

test("each user sees their own notifications only: not a colleague's, not another tenant's", async () => {
  await asUser(db, a.member, async (client) => {
    const mine = [await notify(client, a.member, "one"), await notify(client, a.member, "two")].sort();
    const managers = await notify(client, a.manager);
    const theirs = await notify(client, b.member);
    expect(await visible(client)).toEqual(mine);
    expect(await unread(client)).toBe(2);
    // Managers, owners and admins get no view of other people's notifications either.
    for (const [user, expected] of [
      [a.manager, [managers]],
      [a.owner, []],
      [a.admin, []],
      [b.member, [theirs]],
      [b.owner, []],
    ] as const) {
      await become(client, user);
      expect(await visible(client)).toEqual(expected);
      expect(await unread(client)).toBe(expected.length);
    }
    await become(client, null);
    expect(await visible(client)).toEqual([]);
    expect(await unread(client)).toBe(0);
  });
});

test("a user acknowledges their own notification once; the first read time stays", async () => {
  await asUser(db, a.member, async (client) => {
    const id = await notify(client, a.member);
    const ackedAt = () =>
      value<Date | null>(client, "select acked_at from app_public.instant_notifications where id = $1", [id]);
    expect(await ackedAt()).toBeNull();
    expect(await ack(client, id)).toBeUndefined();
    expect(await ackedAt()).toBeInstanceOf(Date);
    expect(await unread(client)).toBe(0);
    // Read an hour ago (now() is fixed within the transaction): acknowledging again keeps that time.
    const backdate = "update app_public.instant_notifications set acked_at = now() - interval '1 hour' where id = $1";
    await asRoot(db, client, backdate, [id]);
    const first = await ackedAt();
    expect(await ack(client, id)).toBeUndefined();
    expect(await ackedAt()).toEqual(first);
    expect(await value(client, "select app_public.ack_all_notifications()")).toBe(0);
    expect(await ackedAt()).toEqual(first);
  });
});

test("nobody acks another's notification (NOT_FOUND; signed out: UNAUTHENTICATED); it stays unread", async () => {
  await asUser(db, a.member, async (client) => {
    const id = await notify(client, a.member);
    for (const user of [a.owner, a.admin, a.manager, b.owner]) {
      await become(client, user);
      expect(await ack(client, id)).toBe("TNFND");
      expect(await value(client, "select app_public.ack_all_notifications()")).toBe(0);
    }
    // Signed out: UNAUTHENTICATED, as every mutation of one's own rows.
    await become(client, null);
    expect(await ack(client, id)).toBe("TAUTH");
    expect(await errorCode(client, "select app_public.ack_all_notifications()")).toBe("TAUTH");
    await become(client, a.member);
    expect(await unread(client)).toBe(1);
  });
  await asAnonymous(db, async (client) => {
    expect(await ack(client, "00000000-0000-4000-8000-000000000000")).toBe("TAUTH");
  });
});

test("acknowledging all marks the caller's unread ones and answers how many; others' stay unread", async () => {
  await asUser(db, a.member, async (client) => {
    const read = await notify(client, a.member, "already read");
    await notify(client, a.member, "new one");
    await notify(client, a.member, "new two");
    await notify(client, a.manager, "the manager's");
    expect(await ack(client, read)).toBeUndefined();
    expect(await unread(client)).toBe(2);
    expect(await value(client, "select app_public.ack_all_notifications()")).toBe(2);
    expect(await unread(client)).toBe(0);
    expect(await value(client, "select app_public.ack_all_notifications()")).toBe(0);
    await become(client, a.manager);
    expect(await unread(client)).toBe(1);
  });
});

test("the request role cannot write notifications directly, not even its own", async () => {
  await asUser(db, a.member, async (client) => {
    const id = await notify(client, a.member);
    const writes: Array<[string, unknown[]]> = [
      [
        `insert into app_public.instant_notifications (tenant_id, recipient_id, kind, title, content)
         values ($1, $2, 'fake', 'Fake', 'Fake')`,
        [a.id, a.manager.userId],
      ],
      ["update app_public.instant_notifications set acked_at = now() where id = $1", [id]],
      ["update app_public.instant_notifications set title = 'Changed' where id = $1", [id]],
      ["delete from app_public.instant_notifications where id = $1", [id]],
    ];
    for (const [sql, params] of writes) expect(await errorCode(client, sql, params)).toBe("42501");
    expect(await unread(client)).toBe(1);
  });
});
