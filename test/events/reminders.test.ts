/** Reminder jobs follow the participation: scheduled on join, cancelled on leave, moved with the event. */
import { MODULES } from "../../src/modules/index.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { makeTaskList } from "../../src/platform/worker/registry.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createUser, SET_TENANT_MODULE } from "../helpers/fixtures.ts";
import { claimsOf, heldTransaction, untilWaitingOrDone } from "../helpers/sql.ts";
import { until } from "../helpers/wait.ts";
import { queuedJobs, runDueJobs as runJobs } from "../helpers/jobs.ts";
import { bodyOf, startSmtpCapture, type SmtpCapture } from "../helpers/smtp.ts";
import { createEvent, inMinutes, JOIN, LEAVE, newTenant, UPDATE } from "./helpers.ts";

const LEAD_MINUTES = 90;
let app: TestApp;
let smtp: SmtpCapture;

beforeAll(async () => {
  smtp = await startSmtpCapture();
  app = await startTestApp({ env: { EVENT_REMINDER_LEAD_MINUTES: String(LEAD_MINUTES), SMTP_URL: smtp.url } });
});
afterAll(async () => {
  await app.stop();
  await smtp.close();
});

const logger = createLogger("silent");
/** Runs every due job with the real task list, as the worker would. */
const runDueJobs = () => runJobs(app.db.ownerPool, makeTaskList({ modules: MODULES, mail: app.config.mail, logger }));

/** The queued reminders of these participants. */
const reminderJobs = async (participantIds: string[]) =>
  (await queuedJobs(app.db.ownerPool, "event_reminder"))
    .filter((job) => participantIds.some((id) => job.key === `event_reminder:${id}`))
    .map((job) => ({ key: job.key, runAt: job.runAt.toISOString() }));
const minutesBefore = (iso: string, minutes: number) =>
  new Date(new Date(iso).getTime() - minutes * 60_000).toISOString();

test("join schedules the reminder at starts_at − lead, leave removes it, moving the event moves it", async () => {
  const { manager, member } = await newTenant(app);
  const startsAt = inMinutes(3 * 24 * 60);
  const eventId = await createEvent(app, manager.token, {
    name: "Workshop",
    startsAt,
    endsAt: inMinutes(3 * 24 * 60 + 60),
  });

  const joined = await app.graphql(JOIN, { id: eventId }, member.token);
  const participantId = (joined.body.data as { joinEvent: { participant: { rowId: string } } }).joinEvent.participant
    .rowId;
  expect(await reminderJobs([participantId])).toEqual([
    { key: `event_reminder:${participantId}`, runAt: minutesBefore(startsAt, LEAD_MINUTES) },
  ]);

  expect((await app.graphql(LEAVE, { id: eventId }, member.token)).body.data).toEqual({ leaveEvent: { left: true } });
  expect(await reminderJobs([participantId])).toEqual([]);

  const rejoined = await app.graphql(JOIN, { id: eventId }, member.token);
  const newParticipantId = (rejoined.body.data as { joinEvent: { participant: { rowId: string } } }).joinEvent
    .participant.rowId;
  const movedStart = inMinutes(5 * 24 * 60);
  const moved = await app.graphql(
    UPDATE,
    { id: eventId, startsAt: movedStart, endsAt: inMinutes(5 * 24 * 60 + 60) },
    manager.token,
  );
  expect(moved.body.errors).toBeUndefined();
  expect(await reminderJobs([participantId, newParticipantId])).toEqual([
    { key: `event_reminder:${newParticipantId}`, runAt: minutesBefore(movedStart, LEAD_MINUTES) },
  ]);
  // Leaving cancels the moved reminder too.
  await app.graphql(LEAVE, { id: eventId }, member.token);
  expect(await reminderJobs([participantId, newParticipantId])).toEqual([]);
});

test.each([
  ["leaving", "select app_public.leave_event($1)"],
  ["being rejected", "select app_public.reject_participant($1, $2)"],
])("%s while the event is moved leaves no reminder behind", async (_name, statement) => {
  // Fails on the code before the fix: the move read the participant its leave or rejection had not
  // committed yet, and added back the reminder job that had just been removed.
  const { manager, member } = await newTenant(app);
  const eventId = await createEvent(app, manager.token, {
    name: "Race",
    startsAt: inMinutes(3 * 24 * 60),
    endsAt: inMinutes(3 * 24 * 60 + 60),
  });
  const joined = await app.graphql(JOIN, { id: eventId }, member.token);
  const participantId = (joined.body.data as { joinEvent: { participant: { rowId: string } } }).joinEvent.participant
    .rowId;
  const moveTo = (days: number) =>
    app.graphql(
      UPDATE,
      { id: eventId, startsAt: inMinutes(days * 24 * 60), endsAt: inMinutes(days * 24 * 60 + 60) },
      manager.token,
    );
  const leaver = statement.includes("leave_event") ? member : manager;
  // The leave (or rejection) written and not committed, then the move.
  const held = heldTransaction(app.db, claimsOf(leaver), (client) =>
    client.query(statement, leaver === member ? [eventId] : [eventId, member.id]),
  );
  await until(() => held.written(), "the leave to be written");
  const move = moveTo(4);
  await untilWaitingOrDone(app.db, move, "the move to wait for the leave (or go through)");
  held.release();
  await held.committed;
  expect((await move).body.errors).toBeUndefined();
  expect(await reminderJobs([participantId])).toEqual([]);
});

test("the reminder task run twice yields one notification and one e-mail", async () => {
  const { manager, member } = await newTenant(app);
  // Starts within the lead time: the reminder is due at once.
  const eventId = await createEvent(app, manager.token, {
    name: "Standup soon",
    startsAt: inMinutes(30),
    endsAt: inMinutes(45),
    location: "Room 7",
  });
  const joined = await app.graphql(JOIN, { id: eventId }, member.token);
  const participantId = (joined.body.data as { joinEvent: { participant: { rowId: string } } }).joinEvent.participant
    .rowId;

  await runDueJobs();
  // The same job again, as after a crash between the work and the job's completion.
  await app.db.ownerPool.query(
    "select graphile_worker.add_job('event_reminder', json_build_object('participantId', $1::text))",
    [participantId],
  );
  await runDueJobs();
  await runDueJobs();

  const notifications = await app.graphql(
    `{ instantNotifications { nodes { kind title content } } unreadNotificationsCount }`,
    undefined,
    member.token,
  );
  expect(notifications.body.data).toEqual({
    instantNotifications: {
      nodes: [{ kind: "event_reminder", title: "Reminder: Standup soon", content: expect.stringContaining("Room 7") }],
    },
    unreadNotificationsCount: 1,
  });
  const mail = await smtp.waitFor(member.email, /Reminder: Standup soon/);
  expect(bodyOf(mail)).toContain("Room 7");
  expect(smtp.messages.filter((m) => m.to.includes(member.email) && /Reminder/.test(m.subject))).toHaveLength(1);
  const { rows } = await app.db.ownerPool.query(
    "select reminder_queued_at from app_public.event_participants where id = $1",
    [participantId],
  );
  expect(rows[0].reminder_queued_at).toBeInstanceOf(Date);
});

test("with the events module setting emailNotifications=false, reminders notify in the app only", async () => {
  const { tenantId, manager, member } = await newTenant(app);
  await app.db.ownerPool.query(
    `update app_public.tenant_modules set settings = '{"emailNotifications": false}' where tenant_id = $1 ` +
      `and module = 'events'`,
    [tenantId],
  );
  const eventId = await createEvent(app, manager.token, {
    name: "Quiet reading",
    startsAt: inMinutes(20),
    endsAt: inMinutes(50),
  });
  await app.graphql(JOIN, { id: eventId }, member.token);
  await runDueJobs();
  const { rows } = await app.db.ownerPool.query(
    "select 1 from app_public.instant_notifications where recipient_id = $1 and subject_id = $2",
    [member.id, eventId],
  );
  expect(rows).toHaveLength(1);
  expect(smtp.messages.filter((m) => /Quiet reading/.test(m.subject))).toEqual([]);
  expect(
    (await queuedJobs(app.db.ownerPool, "send_email")).filter(
      (job) => (job.payload.data as { title?: string } | undefined)?.title === "Reminder: Quiet reading",
    ),
  ).toEqual([]);
});

/** The member's notifications about this event, and whether their reminder counts as sent. */
async function remindedOf(member: { id: string }, eventId: string, participantId: string) {
  const notified = await app.db.ownerPool.query(
    "select kind from app_public.instant_notifications where recipient_id = $1 and subject_id = $2",
    [member.id, eventId],
  );
  const participant = await app.db.ownerPool.query(
    "select reminder_queued_at is not null as reminded from app_public.event_participants where id = $1",
    [participantId],
  );
  return { notifications: notified.rows.map((row) => row.kind), reminded: participant.rows[0]?.reminded };
}

test("no reminder while the events module is off (sent once it is on again), nor for a begun event", async () => {
  const { tenant, manager, member } = await newTenant(app);
  const admin = await createUser(app.db.ownerPool, tenant, "admin");
  const participate = async (name: string, startsInMinutes: number) => {
    const eventId = await createEvent(app, manager.token, { name, startsAt: inMinutes(startsInMinutes) });
    const joined = await app.graphql(JOIN, { id: eventId }, member.token);
    const { joinEvent } = joined.body.data as { joinEvent: { participant: { rowId: string } } };
    return { eventId, participantId: joinEvent.participant.rowId };
  };

  // Starting within the lead, its reminder is due at once, and runs while the module is off:
  // nothing is sent, and it is not spent.
  const off = await participate("Switched off", LEAD_MINUTES / 2);
  // Switched by an admin's request: as the request role, the switch back on had failed FORBIDDEN.
  const setEvents = async (enabled: boolean) => {
    const answer = await app.graphql(SET_TENANT_MODULE, { module: "events", enabled }, admin.token);
    expect({ enabled, errors: answer.body.errors }).toEqual({ enabled, errors: undefined });
  };
  await setEvents(false);
  try {
    await runDueJobs();
  } finally {
    await setEvents(true);
  }
  expect(await remindedOf(member, off.eventId, off.participantId)).toEqual({ notifications: [], reminded: false });
  // Switched on again before the event: the reminder that fell due meanwhile is sent now.
  await runDueJobs();
  expect(await remindedOf(member, off.eventId, off.participantId)).toEqual({
    notifications: ["event_reminder"],
    reminded: true,
  });

  // Moved to a start in the past: its reminder (due at once) finds the event begun and sends nothing.
  const moved = await participate("Moved back", 3 * 24 * 60);
  const update = await app.graphql(
    UPDATE,
    { id: moved.eventId, startsAt: "2020-01-01T00:00:00Z", endsAt: "2020-01-01T01:00:00Z" },
    manager.token,
  );
  expect(update.body.errors).toBeUndefined();
  await runDueJobs();
  expect(await remindedOf(member, moved.eventId, moved.participantId)).toEqual({ notifications: [], reminded: false });
  expect(smtp.messages.filter((m) => /Moved back/.test(m.subject))).toEqual([]);
});
