/** Live notifications, acknowledgement, and cancellation reaching every participant. */
import type { Client } from "graphql-ws";
import { listening, startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestUser } from "../helpers/fixtures.ts";
import { startSmtpCapture, type SmtpCapture } from "../helpers/smtp.ts";
import { until } from "../helpers/wait.ts";
import { createEvent, JOIN, REJECT } from "./helpers.ts";

let app: TestApp;
let smtp: SmtpCapture;
let manager: TestUser;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  smtp = await startSmtpCapture();
  app = await startTestApp({ worker: true, env: { SMTP_URL: smtp.url } });
  const tenant = await createTenant(app.db.ownerPool, "notified");
  manager = await createUser(app.db.ownerPool, tenant, "manager");
  alice = await createUser(app.db.ownerPool, tenant, "member");
  bob = await createUser(app.db.ownerPool, tenant, "member");
});
afterAll(async () => {
  await app.stop();
  await smtp.close();
});

const SUBSCRIPTION = "subscription { notificationAdded { notification { kind title recipientId } } }";

function collect(client: Client) {
  const received: Array<{
    data?: { notificationAdded: { notification: { kind: string; title: string; recipientId: string } } };
  }> = [];
  client.subscribe(
    { query: SUBSCRIPTION },
    { next: (value) => void received.push(value as never), error: () => {}, complete: () => {} },
  );
  return received;
}

test("a subscriber receives its own new notification; another user's subscriber receives nothing", async () => {
  // One subscription at a time, each until its LISTEN is in place (see listening()).
  const forAlice = collect(app.wsClient(alice.token));
  await listening(app, `user:${alice.id}:notifications`);
  const forBob = collect(app.wsClient(bob.token));
  await listening(app, `user:${bob.id}:notifications`);

  await app.db.ownerPool.query(
    "insert into app_public.instant_notifications (tenant_id, recipient_id, kind, title, content) values " +
      "($1, $2, 'test', 'Hello Alice', 'Just for you')",
    [alice.tenantId, alice.id],
  );
  await until(() => forAlice.length === 1, "Alice's notification");
  expect(forAlice[0]!.data!.notificationAdded.notification).toEqual({
    kind: "test",
    title: "Hello Alice",
    recipientId: alice.id,
  });

  // Bob's socket is live (it gets his own next), and Alice's did not reach it.
  await app.db.ownerPool.query(
    "insert into app_public.instant_notifications (tenant_id, recipient_id, kind, title, content) values " +
      "($1, $2, 'test', 'Hello Bob', 'Yours')",
    [bob.tenantId, bob.id],
  );
  await until(() => forBob.length === 1, "Bob's notification");
  expect(forBob.map((m) => m.data!.notificationAdded.notification.title)).toEqual(["Hello Bob"]);
  expect(forAlice).toHaveLength(1);
});

test("ackNotification, ackAllNotifications and the unread count", async () => {
  const count = async () =>
    (
      (await app.graphql("{ unreadNotificationsCount }", undefined, alice.token)).body.data as {
        unreadNotificationsCount: number;
      }
    ).unreadNotificationsCount;
  await app.db.ownerPool.query(
    "insert into app_public.instant_notifications (tenant_id, recipient_id, kind, title, content) select " +
      "$1, $2, 'test', 'n' || i, 'x' from generate_series(1, 3) i",
    [alice.tenantId, alice.id],
  );
  const before = await count();
  const { body } = await app.graphql(
    "{ instantNotifications(first: 1, orderBy: CREATED_AT_DESC) { nodes { rowId } } }",
    undefined,
    alice.token,
  );
  const id = (body.data as { instantNotifications: { nodes: Array<{ rowId: string }> } }).instantNotifications.nodes[0]!
    .rowId;
  const acked = await app.graphql(
    `mutation ($id: UUID!) { ackNotification(input: { notificationId: $id }) { notification { ackedAt } } }`,
    { id },
    alice.token,
  );
  expect(acked.body.errors).toBeUndefined();
  expect(await count()).toBe(before - 1);
  // Bob cannot ack Alice's notification.
  const foreign = await app.graphql(
    `mutation ($id: UUID!) { ackNotification(input: { notificationId: $id }) { notification { ackedAt } } }`,
    { id },
    bob.token,
  );
  expect(foreign.body.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  const all = await app.graphql("mutation { ackAllNotifications(input: {}) { acked } }", undefined, alice.token);
  expect(all.body.data).toEqual({ ackAllNotifications: { acked: before - 1 } });
  expect(await count()).toBe(0);
});

test("cancelling an event reaches every participant with a notification and an e-mail", async () => {
  const eventId = await createEvent(app, manager.token, { name: "Garden party" });
  const guests = [alice, bob];
  const participantIds: string[] = [];
  for (const guest of guests) {
    const { body } = await app.graphql(JOIN, { id: eventId }, guest.token);
    expect(body.errors).toBeUndefined();
    participantIds.push((body.data as { joinEvent: { participant: { rowId: string } } }).joinEvent.participant.rowId);
  }
  const reminders = async () =>
    (
      await app.db.ownerPool.query(
        "select 1 from graphile_worker.jobs where task_identifier = 'event_reminder' and key = any($1::text[])",
        [participantIds.map((id) => `event_reminder:${id}`)],
      )
    ).rows.length;
  expect(await reminders()).toBe(2);
  const cancelled = await app.graphql(REJECT, { id: eventId, reason: "Rain" }, manager.token);
  expect(cancelled.body.errors).toBeUndefined();

  for (const guest of guests) {
    await smtp.waitFor(guest.email, /Cancelled: Garden party/);
    await until(async () => {
      const { rows } = await app.db.ownerPool.query(
        "select 1 from app_public.instant_notifications where recipient_id = $1 and kind = " +
          "'event_cancelled' and subject_id = $2",
        [guest.id, eventId],
      );
      return rows.length === 1;
    }, "the cancellation notification");
  }
  // Members no longer see the event; the manager still does, as cancelled.
  expect(
    (await app.graphql(`query ($id: UUID!) { event(rowId: $id) { name } }`, { id: eventId }, alice.token)).body.data,
  ).toEqual({ event: null });
  const seen = await app.graphql(
    `query ($id: UUID!) { event(rowId: $id) { rejectionReason } }`,
    { id: eventId },
    manager.token,
  );
  expect(seen.body.data).toEqual({ event: { rejectionReason: "Rain" } });
  // The reminders of a cancelled event are gone (removed once every participant has been told).
  await until(async () => (await reminders()) === 0, "the cancelled event's reminders removed");
});
