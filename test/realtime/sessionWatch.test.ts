/**
 * The backstops of SessionWatch (src/platform/auth/sessionWatch.ts), against a real database: the sweep
 * ends subscriptions of sessions that stopped being live without any notification (expiry), and
 * the LISTEN connection comes back after being cut and hears revocations again.
 */
import pg from "pg";
import { newPool } from "../../src/platform/db/pools.ts";
import { makeLiveSessions } from "../../src/platform/auth/sessionCheck.ts";
import { SESSIONS_ENDED_CHANNEL, SessionWatch } from "../../src/platform/auth/sessionWatch.ts";
import type { AppError } from "../../src/platform/errors.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { createTenant, createUser, type TestTenant } from "../helpers/fixtures.ts";
import { until } from "../helpers/wait.ts";

let db: TestDatabase;
let authenticator: pg.Pool;
let tenant: TestTenant;
let watch: SessionWatch;

beforeAll(async () => {
  db = await createTestDatabase();
  authenticator = newPool({ connectionString: db.urls.authenticatorUrl, max: 2 }, undefined, "test-authenticator");
  tenant = await createTenant(db.ownerPool);
  // A sweep interval no test waits for: sweeps here are called explicitly.
  watch = new SessionWatch({
    connectionString: db.urls.ownerUrl,
    liveSessions: makeLiveSessions(authenticator),
    logger: createLogger("silent"),
    sweepIntervalMs: 3_600_000,
  });
  await watch.start();
});
afterAll(async () => {
  await watch.close();
  await authenticator.end();
  await db.drop();
});

function tracked(sessionId: string, tenantId = tenant.id) {
  const ends: AppError[] = [];
  const untrack = watch.track({ sessionId, tenantId, end: (error) => void ends.push(error) });
  return { ends, untrack };
}

const listenBackends = async () =>
  (
    await db.rootPool.query<{ pid: number }>(
      "select pid from pg_stat_activity where datname = current_database() and query = $1 and state = 'idle'",
      [`LISTEN ${pg.escapeIdentifier(SESSIONS_ENDED_CHANNEL)}`],
    )
  ).rows.map((row) => row.pid);

test("a sweep ends the subscriptions of sessions that expired, and only those", async () => {
  const expiring = await createUser(db.ownerPool, tenant);
  const live = await createUser(db.ownerPool, tenant);
  const a = tracked(expiring.sessionId);
  const b = tracked(live.sessionId);
  // Expiry fires no notification: only the sweep can tell.
  await db.ownerPool.query("update app_private.sessions set expires_at = now() - interval '1 second' where id = $1", [
    expiring.sessionId,
  ]);
  await watch.sweep();
  expect(a.ends.map((error) => [error.code, error.message])).toEqual([
    ["UNAUTHENTICATED", "The session has ended; sign in again."],
  ]);
  expect(b.ends).toEqual([]);
  // Ended once only, however many sweeps follow.
  await watch.sweep();
  expect(a.ends).toHaveLength(1);
  b.untrack();
});

test("a subscription that is no longer tracked is never ended", async () => {
  const user = await createUser(db.ownerPool, tenant);
  const sub = tracked(user.sessionId);
  sub.untrack();
  await db.ownerPool.query(
    "update app_private.sessions set revoked_at = now(), revoked_reason = 'logout' where id = $1",
    [user.sessionId],
  );
  await watch.sweep();
  expect(sub.ends).toEqual([]);
  expect(watch.size).toBe(0);
});

/** A session revoked in the database ends its tracked subscription (the watch heard the NOTIFY). */
async function expectRevocationHeard(): Promise<void> {
  const user = await createUser(db.ownerPool, tenant);
  const sub = tracked(user.sessionId);
  await db.ownerPool.query(
    "update app_private.sessions set revoked_at = now(), revoked_reason = 'logout' where id = $1",
    [user.sessionId],
  );
  await until(() => sub.ends.length === 1, "the revocation to end the subscription");
  expect(sub.ends[0]?.code).toBe("UNAUTHENTICATED");
}

test("after its LISTEN connection is cut, the watch reconnects and hears revocations again", async () => {
  const [before] = await listenBackends();
  expect(before).toEqual(expect.any(Number));
  await db.rootPool.query("select pg_terminate_backend($1)", [before]);
  await until(async () => {
    const pids = await listenBackends();
    return pids.length === 1 && pids[0] !== before;
  }, "the watch to LISTEN again on a new connection");

  await expectRevocationHeard();
});

test("a notification on its channel that is no object is ignored; the watch goes on hearing revocations", async () => {
  // Fails on the code before the fix: `null` threw in the LISTEN connection's handler, ending the process.
  for (const payload of ["null", "1", '"text"', "not json", "[]"])
    await db.ownerPool.query("select pg_notify($1, $2)", [SESSIONS_ENDED_CHANNEL, payload]);
  await expectRevocationHeard();
});
