/**
 * A subscription lives no longer than its authority: when its session is revoked (logout,
 * revokeSession, password change), its tenant is suspended, or its socket's access token expires,
 * the client gets one `error` message for that subscription with code UNAUTHENTICATED, and no
 * event after it. Other users' subscriptions carry on.
 */
import type { Client } from "graphql-ws";
import { listening, startTestApp, type TestApp } from "../helpers/app.ts";
import {
  createSession,
  createTenant,
  createUser,
  mintToken,
  type TestTenant,
  type TestUser,
} from "../helpers/fixtures.ts";
import { until } from "../helpers/wait.ts";

let app: TestApp;
let tenant: TestTenant;
const password = "subscriptions end with their session";

beforeAll(async () => {
  app = await startTestApp();
  tenant = await createTenant(app.db.ownerPool);
});
afterAll(() => app.stop());

const NOTIFICATIONS = "subscription { notificationAdded { notification { title } } }";
const MODULES = "subscription { tenantModuleChanged { event tenantModule { module enabled } } }";
/** Well under the 30 s sweep: an end seen within it came from the revocation's notification. */
const END_DEADLINE_MS = 10_000;

interface Watched {
  events: unknown[];
  errors: Array<Array<{ message: string; extensions?: { code?: string } }>>;
  completed: boolean;
}

function watch(client: Client, query: string): Watched {
  const watched: Watched = { events: [], errors: [], completed: false };
  client.subscribe(
    { query },
    {
      next: (value) => void watched.events.push(value),
      error: (error) => void watched.errors.push(error as Watched["errors"][number]),
      complete: () => void (watched.completed = true),
    },
  );
  return watched;
}

async function ended(watched: Watched, what: string): Promise<void> {
  await until(() => watched.errors.length > 0, `the subscription to end (${what})`, END_DEADLINE_MS);
  expect(watched.errors).toEqual([
    [
      expect.objectContaining({
        message: "The session has ended; sign in again.",
        extensions: { code: "UNAUTHENTICATED" },
      }),
    ],
  ]);
}

const notify = (user: TestUser, title: string) =>
  app.db.ownerPool.query(
    "insert into app_public.instant_notifications (tenant_id, recipient_id, kind, title, content) values " +
      "($1, $2, 'test', $3, 'x')",
    [user.tenantId, user.id, title],
  );

/** A member's access token for session `sid` (another device's, when it is a session of its own). */
const tokenFor = (user: TestUser, sid: string, options: { ttlSeconds?: number } = {}) =>
  mintToken({ sub: user.id, tid: user.tenantId, role: "member", sid }, options);

/** A user with a live subscription to their notifications, its LISTEN in place. */
async function subscribed(user: TestUser, token = user.token): Promise<{ client: Client; watched: Watched }> {
  const client = app.wsClient(token);
  const watched = watch(client, NOTIFICATIONS);
  await listening(app, `user:${user.id}:notifications`);
  return { client, watched };
}

test(
  "logout ends the session's subscription with UNAUTHENTICATED; nothing is delivered after it; another user's " +
    "subscription carries on",
  async () => {
    const alice = await createUser(app.db.ownerPool, tenant, "member");
    const bob = await createUser(app.db.ownerPool, tenant, "member");
    const forAlice = await subscribed(alice);
    const forBob = await subscribed(bob);
    await notify(alice, "before");
    await until(() => forAlice.watched.events.length === 1, "Alice's first notification");

    const logout = await fetch(`${app.url}/api/auth/logout`, {
      method: "POST",
      headers: { authorization: `Bearer ${alice.token}` },
    });
    expect(logout.status).toBe(200);
    await ended(forAlice.watched, "logout");

    // Nothing reaches Alice's ended subscription; Bob's still delivers (so the event went out).
    await notify(alice, "after");
    await notify(bob, "for bob");
    await until(() => forBob.watched.events.length === 1, "Bob's notification");
    expect(forAlice.watched.events).toHaveLength(1);
    expect(forAlice.watched.completed).toBe(false);
    expect(forBob.watched.errors).toEqual([]);

    // The socket stays open, but a new operation on it is refused: the session has ended.
    const retry = watch(forAlice.client, NOTIFICATIONS);
    await until(() => retry.errors.length > 0, "the new subscription's refusal", END_DEADLINE_MS);
    expect(retry.errors[0]?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  },
);

test("revokeSession from another session ends the revoked session's subscription", async () => {
  const user = await createUser(app.db.ownerPool, tenant, "member");
  const { watched } = await subscribed(user);
  const laptop = tokenFor(user, await createSession(app.db.ownerPool, user.id));
  const { body } = await app.graphql(
    "mutation ($id: UUID!) { revokeSession(input: { sessionId: $id }) { revoked } }",
    { id: user.sessionId },
    laptop,
  );
  expect(body).toEqual({ data: { revokeSession: { revoked: true } } });
  await ended(watched, "revokeSession");
});

test("a password change ends the subscriptions of the user's other sessions", async () => {
  const user = await createUser(app.db.ownerPool, tenant, "member", { password });
  const { watched } = await subscribed(user);
  const laptop = tokenFor(user, await createSession(app.db.ownerPool, user.id));
  const changed = await fetch(`${app.url}/api/auth/password/change`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${laptop}` },
    body: JSON.stringify({ currentPassword: password, newPassword: `${password} and a new one` }),
  });
  expect(changed.status).toBe(200);
  await ended(watched, "password change");
});

test("suspending the tenant ends its subscriptions", async () => {
  const suspended = await createTenant(app.db.ownerPool);
  const owner = await createUser(app.db.ownerPool, suspended, "owner");
  const watched = watch(app.wsClient(owner.token), MODULES);
  await listening(app, `tenant:${suspended.id}:modules`);
  await app.db.ownerPool.query("update app_public.tenants set status = 'suspended' where id = $1", [suspended.id]);
  await ended(watched, "tenant suspended");
});

test("a subscription ends when its socket's access token expires", async () => {
  const user = await createUser(app.db.ownerPool, tenant, "member");
  const shortLived = tokenFor(user, user.sessionId, { ttlSeconds: 3 });
  const { watched } = await subscribed(user, shortLived);
  await until(() => watched.errors.length > 0, "the subscription to end at the token's expiry", END_DEADLINE_MS);
  expect(watched.errors).toEqual([
    [expect.objectContaining({ message: "The access token has expired.", extensions: { code: "UNAUTHENTICATED" } })],
  ]);
  // The session itself is still live: a new socket with a fresh token subscribes again. Its LISTEN
  // is the same statement as the ended subscription's, so pg_stat_activity cannot tell that it has
  // run (the ended one's UNLISTEN may still be on its way): notifications are sent until one arrives,
  // and a NOTIFY sent before the LISTEN is simply not delivered.
  const fresh = await subscribed(user, tokenFor(user, user.sessionId));
  const deadline = Date.now() + 20_000;
  for (let sent = 1; fresh.watched.events.length === 0; sent++) {
    if (Date.now() > deadline) {
      throw new Error(`no notification reached the fresh socket: ${JSON.stringify(fresh.watched.errors)}`);
    }
    await notify(user, `still here ${sent}`);
    await until(() => fresh.watched.events.length > 0, "a notification on the fresh socket", 1000).catch(() => {});
  }
  expect(fresh.watched.events[0]).toEqual({
    data: { notificationAdded: { notification: { title: expect.stringMatching(/^still here \d+$/) } } },
  });
  expect(fresh.watched.errors).toEqual([]);
});
