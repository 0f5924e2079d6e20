/**
 * The events module's SQL, called as each role in a rolled-back transaction: who may create, change
 * and cancel events, who sees which events and participants, joining within capacity, and tenant
 * isolation. The HTTP behaviour (GraphQL errors, concurrency, reminders' e-mails) is in the other files.
 */
import {
  a,
  asAnonymous,
  asUser,
  b,
  become,
  type Client,
  column,
  createSqlUser,
  db,
  errorCode,
  type SqlUser,
  useSqlTenants,
  value,
} from "../helpers/sql.ts";

useSqlTenants();

const inHours = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString();
const CREATE = `select id from app_public.create_event(name => $1, starts_at => $2, ends_at => $3,
  max_participants_count => $4)`;

/** An event created by `by` in the open transaction (upcoming unless told otherwise). */
async function createEvent(client: Client, by: SqlUser, options: { capacity?: number; startsIn?: number } = {}) {
  await become(client, by);
  const start = options.startsIn ?? 24;
  return value<string>(client, CREATE, [
    `Event ${Math.random()}`,
    inHours(start),
    inHours(start + 2),
    options.capacity,
  ]);
}

const visibleEvents = (client: Client) => column<string>(client, "select id from app_public.events order by id");
const join = (client: Client, eventId: string) => errorCode(client, "select app_public.join_event($1)", [eventId]);

test("creating an event needs events.manage: a member is FORBIDDEN; manager, admin and owner create one", async () => {
  await asUser(db, a.member, async (client) => {
    expect(await errorCode(client, CREATE, ["Nope", inHours(1), inHours(2), null])).toBe("TFORB");
    expect(await visibleEvents(client)).toEqual([]);
  });
  for (const user of [a.manager, a.admin, a.owner]) {
    await asUser(db, user, async (client) => {
      const id = await createEvent(client, user);
      const row = await client.query("select tenant_id, created_by from app_public.events where id = $1", [id]);
      expect(row.rows).toEqual([{ tenant_id: a.id, created_by: user.userId }]);
    });
  }
});

test("anonymous callers see no events or participants and every event function is UNAUTHENTICATED", async () => {
  await asUser(db, a.manager, async (client) => {
    const id = await createEvent(client, a.manager);
    await become(client, a.member);
    expect(await join(client, id)).toBeUndefined();
    await become(client, null);
    expect(await visibleEvents(client)).toEqual([]);
    expect(await value(client, "select count(*)::int from app_public.event_participants")).toBe(0);
    expect(await join(client, id)).toBe("TAUTH");
    expect(await errorCode(client, "select app_public.leave_event($1)", [id])).toBe("TAUTH");
    expect(await errorCode(client, CREATE, ["Anon", inHours(1), inHours(2), null])).toBe("TAUTH");
    expect(await errorCode(client, "select app_public.reject_event($1)", [id])).toBe("TAUTH");
  });
  await asAnonymous(db, async (client) => {
    expect(await errorCode(client, "select app_public.update_event($1, name => 'x')", [a.id])).toBe("TAUTH");
  });
});

test("the request role writes events and participants only through the functions", async () => {
  await asUser(db, a.owner, async (client) => {
    const id = await createEvent(client, a.owner);
    const writes: Array<[string, unknown[]]> = [
      [
        "insert into app_public.events (tenant_id, name, starts_at, ends_at) values ($1, 'x', now(), now() + '1h')",
        [a.id],
      ],
      ["update app_public.events set name = 'renamed' where id = $1", [id]],
      ["delete from app_public.events where id = $1", [id]],
      [
        "insert into app_public.event_participants (tenant_id, event_id, user_id) values ($1, $2, $3)",
        [a.id, id, a.owner.userId],
      ],
      ["update app_public.event_participants set status = 'PARTICIPATING' where event_id = $1", [id]],
      ["delete from app_public.event_participants where event_id = $1", [id]],
    ];
    for (const [sql, params] of writes) expect(await errorCode(client, sql, params)).toBe("42501");
  });
});

test("a member joins within capacity; the next one is EVENT_FULL; joining twice keeps one place", async () => {
  const [second, third] = [await createSqlUser(db, a, "member"), await createSqlUser(db, a, "member")];
  await asUser(db, a.manager, async (client) => {
    const id = await createEvent(client, a.manager, { capacity: 2 });
    for (const user of [a.member, a.member, second]) {
      await become(client, user);
      expect(await join(client, id)).toBeUndefined();
    }
    await become(client, third);
    expect(await join(client, id)).toBe("TEFUL");
    expect(
      await value(client, "select app_public.events_participants_count(e) from app_public.events e where id = $1", [
        id,
      ]),
    ).toBe(2);
    expect(await value(client, "select app_public.events_viewer_is_participating(e) from app_public.events e")).toBe(
      false,
    );
    // A place given back is a place for the next one.
    await become(client, second);
    expect(await errorCode(client, "select app_public.leave_event($1)", [id])).toBeUndefined();
    expect(await errorCode(client, "select app_public.leave_event($1)", [id])).toBe("TNFND");
    await become(client, third);
    expect(await join(client, id)).toBeUndefined();
    expect(await value(client, "select app_public.events_viewer_is_participating(e) from app_public.events e")).toBe(
      true,
    );
  });
});

test("an event that has started cannot be joined; a cancelled one is gone for members", async () => {
  await asUser(db, a.manager, async (client) => {
    const started = await createEvent(client, a.manager, { startsIn: -1 });
    const cancelled = await createEvent(client, a.manager);
    expect(await errorCode(client, "select app_public.reject_event($1, 'rain')", [cancelled])).toBeUndefined();
    expect(await errorCode(client, "select app_public.reject_event($1)", [cancelled])).toBe("TNFND");
    expect(await visibleEvents(client)).toEqual([started, cancelled].sort());
    await become(client, a.member);
    expect(await join(client, started)).toBe("TVALD");
    expect(await join(client, cancelled)).toBe("TNFND");
    expect(await visibleEvents(client)).toEqual([started]);
  });
});

test("a cancelled event's participants stay: leaving is NOT_FOUND, removing one is CONFLICT", async () => {
  await asUser(db, a.manager, async (client) => {
    const id = await createEvent(client, a.manager);
    await become(client, a.member);
    expect(await join(client, id)).toBeUndefined();
    await become(client, a.manager);
    expect(await join(client, id)).toBeUndefined();
    expect(await errorCode(client, "select app_public.reject_event($1)", [id])).toBeUndefined();
    expect(await errorCode(client, "select app_public.reject_participant($1, $2)", [id, a.member.userId])).toBe(
      "TCONF",
    );
    for (const user of [a.member, a.manager]) {
      await become(client, user);
      expect(await errorCode(client, "select app_public.leave_event($1)", [id])).toBe("TNFND");
    }
    await become(client, a.owner);
    expect(await column(client, "select status from app_public.event_participants where event_id = $1", [id])).toEqual([
      "PARTICIPATING",
      "PARTICIPATING",
    ]);
  });
});

test("a deleted user's seat is given back", async () => {
  const leaving = await createSqlUser(db, a, "member");
  await asUser(db, a.manager, async (client) => {
    const id = await createEvent(client, a.manager, { capacity: 1 });
    await become(client, leaving);
    expect(await join(client, id)).toBeUndefined();
    await become(client, a.member);
    expect(await join(client, id)).toBe("TEFUL");
    await become(client, a.owner);
    expect(await errorCode(client, "select app_public.delete_user($1)", [leaving.userId])).toBeUndefined();
    await become(client, a.member);
    expect(await join(client, id)).toBeUndefined();
    await become(client, a.owner);
    expect(await column(client, "select user_id from app_public.event_participants where event_id = $1", [id])).toEqual(
      [a.member.userId],
    );
  });
});

test("members see their own participation; managers see everyone's; a rejected member cannot come back", async () => {
  const other = await createSqlUser(db, a, "member");
  await asUser(db, a.manager, async (client) => {
    const id = await createEvent(client, a.manager);
    for (const user of [a.member, other]) {
      await become(client, user);
      expect(await join(client, id)).toBeUndefined();
    }
    const participants = () =>
      column<string>(client, "select user_id from app_public.event_participants order by user_id");
    expect(await participants()).toEqual([other.userId]);
    await become(client, a.member);
    expect(await errorCode(client, "select app_public.reject_participant($1, $2)", [id, other.userId])).toBe("TFORB");
    await become(client, a.manager);
    expect(await participants()).toEqual([a.member.userId, other.userId].sort());
    expect(await errorCode(client, "select app_public.reject_participant($1, $2)", [id, other.userId])).toBeUndefined();
    await become(client, other);
    expect(await join(client, id)).toBe("TFORB");
  });
});

test("updateEvent needs events.manage and refuses a capacity below the participants (CONFLICT)", async () => {
  await asUser(db, a.manager, async (client) => {
    const id = await createEvent(client, a.manager, { capacity: 5 });
    await become(client, a.member);
    expect(await join(client, id)).toBeUndefined();
    expect(await errorCode(client, "select app_public.update_event($1, name => 'Mine now')", [id])).toBe("TFORB");
    await become(client, a.owner);
    expect(await join(client, id)).toBeUndefined();
    const update = "select app_public.update_event($1, max_participants_count => $2)";
    expect(await errorCode(client, update, [id, 1])).toBe("TCONF");
    expect(await errorCode(client, update, [id, 2])).toBeUndefined();
    await become(client, a.admin);
    expect(await join(client, id)).toBe("TEFUL");
    expect(await value(client, "select max_participants_count from app_public.events where id = $1", [id])).toBe(2);
  });
});

test("tenant B sees none of A's events or participants and cannot join, change, cancel or leave them", async () => {
  await asUser(db, a.manager, async (client) => {
    const id = await createEvent(client, a.manager);
    await become(client, a.member);
    expect(await join(client, id)).toBeUndefined();
    for (const user of [b.member, b.manager, b.owner]) {
      await become(client, user);
      expect(await visibleEvents(client)).toEqual([]);
      expect(await value(client, "select count(*)::int from app_public.event_participants")).toBe(0);
      expect(await column(client, "select id from app_public.search_events()")).toEqual([]);
      expect(await join(client, id)).toBe("TNFND");
      expect(await errorCode(client, "select app_public.leave_event($1)", [id])).toBe("TNFND");
    }
    await become(client, b.manager);
    expect(await errorCode(client, "select app_public.update_event($1, name => 'Hijacked')", [id])).toBe("TNFND");
    expect(await errorCode(client, "select app_public.reject_event($1)", [id])).toBe("TNFND");
    expect(await errorCode(client, "select app_public.reject_participant($1, $2)", [id, a.member.userId])).toBe(
      "TNFND",
    );
    await become(client, a.manager);
    expect(await visibleEvents(client)).toEqual([id]);
    expect(await value(client, "select name from app_public.events where id = $1", [id])).toMatch(/^Event /);
  });
});

test("with the events module switched off, events are invisible and every event function is FORBIDDEN", async () => {
  await asUser(db, a.owner, async (client) => {
    const id = await createEvent(client, a.owner);
    await become(client, a.member);
    expect(await join(client, id)).toBeUndefined();
    await become(client, a.owner);
    expect(await errorCode(client, "select app_public.set_tenant_module('events', false)")).toBeUndefined();
    for (const user of [a.owner, a.manager, a.member]) {
      await become(client, user);
      expect(await visibleEvents(client)).toEqual([]);
      expect(await value(client, "select count(*)::int from app_public.event_participants")).toBe(0);
      expect(await join(client, id)).toBe("TFORB");
    }
    expect(await errorCode(client, "select app_public.leave_event($1)", [id])).toBe("TFORB");
    await become(client, a.manager);
    expect(await errorCode(client, CREATE, ["Off", inHours(1), inHours(2), null])).toBe("TFORB");
    expect(await errorCode(client, "select app_public.update_event($1, name => 'x')", [id])).toBe("TFORB");
    expect(await errorCode(client, "select app_public.reject_event($1)", [id])).toBe("TFORB");
    // Tenant B is not affected.
    await become(client, b.manager);
    expect(await errorCode(client, CREATE, ["On", inHours(1), inHours(2), null])).toBeUndefined();
  });
});

test("an event's image must be an https:// URL or one of the tenant's own uploads", async () => {
  const image = await value<string>(
    db.ownerPool,
    "insert into app_public.images (tenant_id, sha256) values ($1, repeat('b', 64)) returning id",
    [b.id],
  );
  await asUser(db, a.manager, async (client) => {
    const id = await createEvent(client, a.manager);
    const setImage = "select app_public.update_event($1, image => $2)";
    expect(await errorCode(client, setImage, [id, `/api/images/${image}`])).toBe("TVALD");
    expect(await errorCode(client, setImage, [id, "http://example.test/a.png"])).toBe("TVALD");
    expect(await errorCode(client, setImage, [id, "https://example.test/a.png"])).toBeUndefined();
  });
});
