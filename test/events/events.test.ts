/** Managing, finding and seeing events: permissions, validation, search, isolation, module switch. */
import { MODULES } from "../../src/modules/index.ts";
import { CANCELLATION_BATCH_SIZE } from "../../src/modules/events/tasks.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { makeTaskList } from "../../src/platform/worker/registry.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { queuedJobs, runDueJobs } from "../helpers/jobs.ts";
import { until } from "../helpers/wait.ts";
import { CREATE_EVENT, createEvent, inMinutes, JOIN, newTenant, REJECT } from "./helpers.ts";

/** The cancellation fan-out task alone, as the worker runs it (payload validated). */
const onlyCancellation = () => {
  const { event_cancelled } = makeTaskList({ modules: MODULES, mail: app.config.mail, logger: createLogger("silent") });
  return { event_cancelled: event_cancelled! };
};

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

const code = (body: { errors?: Array<{ extensions?: { code?: string } }> }) => body.errors?.[0]?.extensions?.code;

test("only events.manage creates events; bad input is VALIDATION_FAILED and stores nothing", async () => {
  const { tenantId, manager, member } = await newTenant(app);
  const base = { name: "Talk", startsAt: inMinutes(60), endsAt: inMinutes(120) };
  expect(code((await app.graphql(CREATE_EVENT, { input: base }, member.token)).body)).toBe("FORBIDDEN");
  expect(
    code((await app.graphql(CREATE_EVENT, { input: { ...base, endsAt: inMinutes(30) } }, manager.token)).body),
  ).toBe("VALIDATION_FAILED");
  expect(
    code((await app.graphql(CREATE_EVENT, { input: { ...base, maxParticipantsCount: 0 } }, manager.token)).body),
  ).toBe("VALIDATION_FAILED");
  expect(
    code((await app.graphql(CREATE_EVENT, { input: { ...base, image: "javascript:alert(1)" } }, manager.token)).body),
  ).toBe("VALIDATION_FAILED");
  expect(code((await app.graphql(CREATE_EVENT, { input: base })).body)).toBe("UNAUTHENTICATED");
  const { rows } = await app.db.ownerPool.query(
    "select count(*)::int as n from app_public.events where tenant_id = $1",
    [tenantId],
  );
  expect(rows[0].n).toBe(0);
});

test("members list upcoming events with counts, search text and date ranges; cancelled ones disappear", async () => {
  const { manager, member } = await newTenant(app);
  const jazz = await createEvent(app, manager.token, {
    name: "Jazz night",
    description: "Live saxophone quartet",
    startsAt: inMinutes(2 * 24 * 60),
    endsAt: inMinutes(2 * 24 * 60 + 120),
    image: "https://img.example.test/jazz.png",
  });
  const chess = await createEvent(app, manager.token, {
    name: "Chess club",
    startsAt: inMinutes(10 * 24 * 60),
    endsAt: inMinutes(10 * 24 * 60 + 60),
    maxParticipantsCount: 8,
  });
  const gone = await createEvent(app, manager.token, {
    name: "Cancelled gig",
    startsAt: inMinutes(3 * 24 * 60),
    endsAt: inMinutes(3 * 24 * 60 + 60),
  });
  await app.db.ownerPool.query(
    "insert into app_public.events (tenant_id, name, starts_at, ends_at) values ($1, 'Last year', now() - " +
      "interval '300 days', now() - interval '299 days')",
    [member.tenantId],
  );
  await app.graphql(JOIN, { id: chess }, member.token);
  await app.graphql(REJECT, { id: gone, reason: "Sick band" }, manager.token);

  const upcoming = await app.graphql(
    `{ searchEvents(upcoming: true, orderBy: STARTS_AT_ASC) { nodes { rowId name participantsCount ` +
      `viewerIsParticipating } totalCount } }`,
    undefined,
    member.token,
  );
  expect(upcoming.body.errors).toBeUndefined();
  expect(upcoming.body.data).toEqual({
    searchEvents: {
      nodes: [
        { rowId: jazz, name: "Jazz night", participantsCount: 0, viewerIsParticipating: false },
        { rowId: chess, name: "Chess club", participantsCount: 1, viewerIsParticipating: true },
      ],
      totalCount: 2,
    },
  });
  const text = await app.graphql(`{ searchEvents(search: "saxophone") { nodes { name } } }`, undefined, member.token);
  expect(text.body.data).toEqual({ searchEvents: { nodes: [{ name: "Jazz night" }] } });
  const range = await app.graphql(
    `query ($from: Datetime, $to: Datetime) { searchEvents(startsAfter: $from, startsBefore: $to) { nodes { name } } }`,
    { from: inMinutes(5 * 24 * 60), to: inMinutes(20 * 24 * 60) },
    member.token,
  );
  expect(range.body.data).toEqual({ searchEvents: { nodes: [{ name: "Chess club" }] } });
  const paged = await app.graphql(
    `{ searchEvents(upcoming: true, orderBy: STARTS_AT_ASC, first: 1) { nodes { name } pageInfo { ` +
      `hasNextPage endCursor } } }`,
    undefined,
    member.token,
  );
  expect(paged.body.data).toMatchObject({
    searchEvents: { nodes: [{ name: "Jazz night" }], pageInfo: { hasNextPage: true } },
  });
  // The manager sees the cancelled one too.
  const managerView = await app.graphql(`{ events { nodes { name } } }`, undefined, manager.token);
  expect(
    (managerView.body.data as { events: { nodes: Array<{ name: string }> } }).events.nodes.map((e) => e.name),
  ).toContain("Cancelled gig");
});

test("searchEvents(search:) takes %, _, ! and \\ literally, not as pattern characters", async () => {
  const { manager, member } = await newTenant(app);
  for (const name of ["100% fun", "snake_case meetup", "back\\slash night", "Wow! Games", "Plain talk"])
    await createEvent(app, manager.token, { name });
  const found = async (search: string) => {
    const { body } = await app.graphql(
      "query ($s: String) { searchEvents(search: $s, orderBy: STARTS_AT_ASC) { nodes { name } } }",
      { s: search },
      member.token,
    );
    expect(body.errors).toBeUndefined();
    return (body.data as { searchEvents: { nodes: Array<{ name: string }> } }).searchEvents.nodes.map((n) => n.name);
  };
  expect(await found("%")).toEqual(["100% fun"]);
  expect(await found("_")).toEqual(["snake_case meetup"]);
  expect(await found("\\")).toEqual(["back\\slash night"]);
  expect(await found("!")).toEqual(["Wow! Games"]);
  expect(await found("e_c")).toEqual(["snake_case meetup"]);
  expect(await found("talk")).toEqual(["Plain talk"]);
});

test("tenant isolation: another tenant sees none of these events and cannot join them", async () => {
  const { manager } = await newTenant(app);
  const outsider = (await newTenant(app)).manager;
  const eventId = await createEvent(app, manager.token, { name: "Ours only" });
  const { body } = await app.graphql(
    `{ events { totalCount } eventParticipants { totalCount } }`,
    undefined,
    outsider.token,
  );
  expect(body.data).toEqual({ events: { totalCount: 0 }, eventParticipants: { totalCount: 0 } });
  expect(code((await app.graphql(JOIN, { id: eventId }, outsider.token)).body)).toBe("NOT_FOUND");
});

test("with the events module switched off, events are invisible and event mutations are FORBIDDEN", async () => {
  const { tenantId, manager, member } = await newTenant(app);
  const eventId = await createEvent(app, manager.token, { name: "Switched off" });
  await app.db.ownerPool.query(
    "update app_public.tenant_modules set enabled = false where tenant_id = $1 and module = 'events'",
    [tenantId],
  );
  const { body } = await app.graphql(`{ events { totalCount } searchEvents { totalCount } }`, undefined, manager.token);
  expect(body.data).toEqual({ events: { totalCount: 0 }, searchEvents: { totalCount: 0 } });
  expect(code((await app.graphql(JOIN, { id: eventId }, member.token)).body)).toBe("FORBIDDEN");
  expect(
    code(
      (
        await app.graphql(
          CREATE_EVENT,
          { input: { name: "x", startsAt: inMinutes(60), endsAt: inMinutes(90) } },
          manager.token,
        )
      ).body,
    ),
  ).toBe("FORBIDDEN");
});

test("an admin can reject a participant, who cannot join again", async () => {
  const { manager, member } = await newTenant(app);
  const eventId = await createEvent(app, manager.token, { name: "Invite only" });
  await app.graphql(JOIN, { id: eventId }, member.token);
  const rejected = await app.graphql(
    `mutation ($e: UUID!, $u: UUID!) { rejectParticipant(input: { eventId: $e, userId: $u }) { participant ` +
      `{ status } } }`,
    { e: eventId, u: member.id },
    manager.token,
  );
  expect(rejected.body.data).toEqual({ rejectParticipant: { participant: { status: "REJECTED" } } });
  expect(code((await app.graphql(JOIN, { id: eventId }, member.token)).body)).toBe("FORBIDDEN");
  const denied = await app.graphql(
    `mutation ($e: UUID!, $u: UUID!) { rejectParticipant(input: { eventId: $e, userId: $u }) { participant ` +
      `{ status } } }`,
    { e: eventId, u: manager.id },
    member.token,
  );
  expect(code(denied.body)).toBe("FORBIDDEN");
});

test(
  "each batch of a cancellation is committed as it is written: " +
    "the first participants are told while a later batch waits",
  async () => {
    const { tenantId, manager } = await newTenant(app);
    const eventId = await createEvent(app, manager.token, { name: "Regatta" });
    const participants = 2 * CANCELLATION_BATCH_SIZE + 50;
    const { rows: people } = await app.db.ownerPool.query<{ id: string }>(
      `with people as (
       insert into app_public.users (tenant_id, email, username)
       select $1, 'sailor' || i || '@example.test', 'sailor' || i from generate_series(1, $3::int) i returning id
     )
     insert into app_public.event_participants (tenant_id, event_id, user_id) select $1, $2, id from people
     returning user_id as id`,
      [tenantId, eventId, participants],
    );
    expect((await app.graphql(REJECT, { id: eventId }, manager.token)).body.errors).toBeUndefined();
    const told = async () =>
      (
        await app.db.ownerPool.query(
          "select count(*)::int as n from app_public.instant_notifications where kind = 'event_cancelled' and " +
            "subject_id = $1",
          [eventId],
        )
      ).rows[0].n as number;
    // Batches go in user id order: holding a user of the third batch makes that batch wait (its
    // notification's foreign key check needs the row), after the first two.
    const held = people.map((p) => p.id).sort()[2 * CANCELLATION_BATCH_SIZE + 10]!;
    const holder = await app.db.ownerPool.connect();
    let run: Promise<void> | undefined;
    try {
      await holder.query("begin");
      await holder.query("select 1 from app_public.users where id = $1 for update", [held]);
      let finished = false;
      run = runDueJobs(app.db.ownerPool, onlyCancellation()).finally(() => (finished = true));
      await until(async () => (await told()) === 2 * CANCELLATION_BATCH_SIZE, "the first two batches' notifications");
      expect(finished).toBe(false);
    } finally {
      await holder.query("rollback");
      holder.release();
    }
    await run;
    expect(await told()).toBe(participants);
  },
);

test(
  "cancelling an event with 1,200 participants fans out in batches: " + "every notification, an e-mail job a batch",
  async () => {
    const { tenantId, manager } = await newTenant(app);
    const eventId = await createEvent(app, manager.token, { name: "Stadium concert" });
    await app.db.ownerPool.query(
      `with people as (
       insert into app_public.users (tenant_id, email, username)
       select $1, 'fan' || i || '@example.test', 'fan' || i from generate_series(1, 1200) i returning id
     )
     insert into app_public.event_participants (tenant_id, event_id, user_id) select $1, $2, id from people`,
      [tenantId, eventId],
    );
    expect((await app.graphql(REJECT, { id: eventId }, manager.token)).body.errors).toBeUndefined();
    // Only the fan-out task runs here, so the e-mail jobs it enqueues stay in the queue to be counted.
    await runDueJobs(app.db.ownerPool, onlyCancellation());
    const { rows } = await app.db.ownerPool.query(
      "select count(*)::int as n from app_public.instant_notifications where kind = 'event_cancelled' and " +
        "subject_id = $1",
      [eventId],
    );
    expect(rows[0].n).toBe(1200);
    const ours = async () =>
      (await queuedJobs(app.db.ownerPool, "send_email")).filter(
        (job) =>
          job.payload.template === "event_cancelled" &&
          (job.payload.data as { title?: string }).title === "Cancelled: Stadium concert",
      );
    const emails = await ours();
    const batches = Math.ceil(1200 / CANCELLATION_BATCH_SIZE);
    expect(batches).toBeGreaterThan(1);
    const full = Array.from({ length: batches }, (_, i) =>
      Math.min(CANCELLATION_BATCH_SIZE, 1200 - i * CANCELLATION_BATCH_SIZE),
    );
    expect(emails.map((job) => (job.payload.to as string[]).length).sort((a, b) => b - a)).toEqual(full);
    expect(new Set(emails.flatMap((job) => job.payload.to as string[])).size).toBe(1200);
    // Run again (a retry): nobody is notified or e-mailed twice.
    await app.db.ownerPool.query(
      "select graphile_worker.add_job('event_cancelled', json_build_object('eventId', $1::text))",
      [eventId],
    );
    await runDueJobs(app.db.ownerPool, onlyCancellation());
    const again = await app.db.ownerPool.query(
      "select count(*)::int as n from app_public.instant_notifications where kind = 'event_cancelled' and " +
        "subject_id = $1",
      [eventId],
    );
    expect(again.rows[0].n).toBe(1200);
    expect(await ours()).toHaveLength(batches);
  },
);

test("a cancelled event is final: updateEvent answers CONFLICT EVENT_CANCELLED and changes nothing", async () => {
  // Fails on the code before the fix: a cancelled event could be renamed and moved.
  const { manager, member } = await newTenant(app);
  const eventId = await createEvent(app, manager.token, { name: "Called off" });
  expect((await app.graphql(JOIN, { id: eventId }, member.token)).body.errors).toBeUndefined();
  expect(
    (await app.graphql(REJECT, { id: eventId, reason: "Venue closed" }, manager.token)).body.errors,
  ).toBeUndefined();
  const read = async () =>
    (
      await app.db.ownerPool.query("select name, starts_at, rejection_reason from app_public.events where id = $1", [
        eventId,
      ])
    ).rows[0];
  const before = await read();
  const update = await app.graphql(
    `mutation ($input: UpdateEventInput!) { updateEvent(input: $input) { event { name } } }`,
    { input: { eventId, name: "Back on", startsAt: inMinutes(60), endsAt: inMinutes(120) } },
    manager.token,
  );
  expect(update.body.errors?.[0]?.extensions).toEqual({ code: "CONFLICT", details: { reason: "EVENT_CANCELLED" } });
  expect(await read()).toEqual(before);
});
