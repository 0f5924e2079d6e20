/**
 * `notificationAdded` answers from the NOTIFY message that carries the row: the answer is the one a
 * query of the row gives (every field, relations included); a row too big for a NOTIFY still
 * arrives whole; a colleague's or another tenant's subscriber gets nothing; a subscriber whose
 * session has expired gets no content, as a read of the row under RLS gave none.
 */
import type { Client } from "graphql-ws";
import { listening, startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestTenant, type TestUser } from "../helpers/fixtures.ts";
import { until } from "../helpers/wait.ts";

let app: TestApp;
let tenant: TestTenant;
let otherTenant: TestTenant;

beforeAll(async () => {
  app = await startTestApp();
  tenant = await createTenant(app.db.ownerPool);
  otherTenant = await createTenant(app.db.ownerPool);
});
afterAll(() => app.stop());

const FIELDS = `id rowId tenantId recipientId kind title content ctaUrl ctaLabel subjectId ackedAt createdAt
  recipient { rowId email username } tenant { rowId slug name }`;

type Notification = Record<string, unknown> & { rowId: string; title: string; content: string };
type Event = { data?: { notificationAdded: { notification: Notification | null } }; errors?: unknown };

/** A new user each time, so that waiting for its LISTEN waits for this subscription. */
const newUser = (of = tenant) => createUser(app.db.ownerPool, of);

async function subscribe(user: TestUser, fields = FIELDS): Promise<Event[]> {
  const received: Event[] = [];
  const client: Client = app.wsClient(user.token);
  client.subscribe(
    { query: `subscription { notificationAdded { notification { ${fields} } } }` },
    { next: (value) => void received.push(value as Event), error: () => {}, complete: () => {} },
  );
  await listening(app, `user:${user.id}:notifications`);
  return received;
}

async function notify(to: TestUser, title: string, content = "Some text", extra = ""): Promise<string> {
  const { rows } = await app.db.ownerPool.query<{ id: string }>(
    `insert into app_public.instant_notifications
       (tenant_id, recipient_id, kind, title, content, cta_url, cta_label, subject_id, acked_at)
     values ($1, $2, 'test', $3, $4, 'https://example.test/x', 'Open', gen_random_uuid(), ${extra || "null"})
     returning id`,
    [to.tenantId, to.id, title, content],
  );
  return rows[0]!.id;
}

/** The same fields read by a query, as the recipient. */
async function queried(user: TestUser, rowId: string): Promise<Notification> {
  const { body } = await app.graphql(
    `query ($rowId: UUID!) { instantNotification(rowId: $rowId) { ${FIELDS} } }`,
    { rowId },
    user.token,
  );
  expect(body.errors).toBeUndefined();
  return (body.data as { instantNotification: Notification }).instantNotification;
}

test("the live answer is the answer a query of the row gives, every field and relation included", async () => {
  const alice = await newUser();
  const received = await subscribe(alice);
  const id = await notify(alice, "Every field", "Some text", "now() - interval '1 minute'");
  await until(() => received.length === 1, "Alice's notification");
  expect(received[0]!.errors).toBeUndefined();
  const live = received[0]!.data!.notificationAdded.notification!;
  expect(live.rowId).toBe(id);
  expect(live).toEqual(await queried(alice, id));
});

test("a notification too big for a NOTIFY message still arrives whole", async () => {
  const alice = await newUser();
  const received = await subscribe(alice, "rowId title content createdAt");
  // 5,000 two-byte characters: 10,000 bytes, over PostgreSQL's 8,000-byte payload limit.
  const content = "я".repeat(5000);
  const id = await notify(alice, "Big one", content);
  await until(() => received.length === 1, "the big notification");
  const live = received[0]!.data!.notificationAdded.notification!;
  expect(live.content).toBe(content);
  expect(live).toEqual(
    await queried(alice, id).then(({ rowId, title, content, createdAt }) => ({
      rowId,
      title,
      content,
      createdAt,
    })),
  );
});

test("a colleague's and another tenant's subscribers receive nothing of a user's notification", async () => {
  const [alice, bob, carol] = [await newUser(), await newUser(), await newUser(otherTenant)];
  const forAlice = await subscribe(alice, "title");
  const forBob = await subscribe(bob, "title");
  const forCarol = await subscribe(carol, "title");
  await notify(alice, "For Alice only");
  await until(() => forAlice.length === 1, "Alice's notification");
  // Their sockets are live: each gets its own next, and nothing before it.
  await notify(bob, "For Bob");
  await notify(carol, "For Carol");
  await until(() => forBob.length === 1 && forCarol.length === 1, "Bob's and Carol's notifications");
  const titles = (events: Event[]) => events.map((event) => event.data?.notificationAdded.notification?.title);
  expect(titles(forAlice)).toEqual(["For Alice only"]);
  expect(titles(forBob)).toEqual(["For Bob"]);
  expect(titles(forCarol)).toEqual(["For Carol"]);
});

test("a subscriber whose session has expired gets no content, as a read under RLS gave none", async () => {
  const dave = await newUser();
  const received = await subscribe(dave, "title content");
  // Expiry sends no NOTIFY (revocation does): the subscription is still open until the next sweep.
  await app.db.ownerPool.query(
    "update app_private.sessions set expires_at = now() - interval '1 second' where id = $1",
    [dave.sessionId],
  );
  await notify(dave, "Secret title", "Secret text");
  await until(() => received.length === 1, "the event for the expired session");
  expect(received[0]!.data!.notificationAdded.notification).toBeNull();
});
