/**
 * A request's statement that PostgreSQL aborts for another transaction (here a deadlock's victim)
 * is sent again, whole, since its transaction held that statement alone: the client sees its
 * mutation done. A conflict on every attempt answers CONFLICT `CONCURRENT_TRANSACTION`, not a 500,
 * with nothing written.
 *
 * The deadlock is real: another transaction holds the member's user row; the request's `joinEvent`
 * locks the event's row, then waits for the user row (the participant's foreign key); the other
 * transaction then asks for the event's row. The other transaction's deadlock timeout is a minute,
 * so PostgreSQL's check runs first in the request's backend and aborts the request.
 */
import { TRANSACTION_ATTEMPTS } from "../../src/platform/graphql/requestTransactions.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { until } from "../helpers/wait.ts";
import { createEvent, JOIN, newTenant } from "../events/helpers.ts";

let app: TestApp;
const logLines: string[] = [];

beforeAll(async () => {
  app = await startTestApp({ logLines });
});
afterAll(() => app.stop());

/**
 * Runs `join` while another transaction deadlocks it `times` times, then lets it go. Each round
 * waits for the request to wait on the user row before closing the cycle.
 */
async function joinThroughDeadlocks(
  eventId: string,
  userId: string,
  times: number,
  join: () => ReturnType<TestApp["graphql"]>,
): Promise<Awaited<ReturnType<TestApp["graphql"]>>> {
  const other = await app.db.rootPool.connect();
  try {
    await other.query("begin");
    await other.query("set local deadlock_timeout = '60s'");
    await other.query("select 1 from app_public.users where id = $1 for update", [userId]);
    const { rows } = await other.query<{ xid: string }>(
      "select transactionid::text as xid from pg_locks " +
        "where pid = pg_backend_pid() and locktype = 'transactionid' and granted",
    );
    const xid = rows[0]!.xid;
    const waitingForUser = async () =>
      (
        await app.db.rootPool.query<{ n: number }>(
          "select count(*)::int as n from pg_locks " +
            "where locktype = 'transactionid' and not granted and transactionid::text = $1",
          [xid],
        )
      ).rows[0]!.n > 0;
    const answer = join();
    for (let round = 1; round <= times; round++) {
      await until(waitingForUser, `the request to wait for the user row (round ${round})`);
      // Returns once PostgreSQL has aborted the request; the savepoint gives the event row back.
      await other.query("savepoint event");
      await other.query("select 1 from app_public.events where id = $1 for update", [eventId]);
      await other.query("rollback to savepoint event");
    }
    await other.query("rollback");
    return await answer;
  } finally {
    other.release();
  }
}

const participants = async (eventId: string) =>
  (
    await app.db.ownerPool.query<{ n: number }>(
      "select count(*)::int as n from app_public.event_participants where event_id = $1",
      [eventId],
    )
  ).rows[0]!.n;

test("a mutation aborted as a deadlock's victim is sent again and succeeds", async () => {
  const { manager, member } = await newTenant(app);
  const eventId = await createEvent(app, manager.token, { name: "Deadlocked once" });
  const { status, body } = await joinThroughDeadlocks(eventId, member.id, 1, () =>
    app.graphql(JOIN, { id: eventId }, member.token),
  );
  expect(body.errors).toBeUndefined();
  expect(status).toBe(200);
  expect(body.data).toEqual({ joinEvent: { participant: { rowId: expect.any(String), status: "PARTICIPATING" } } });
  expect(await participants(eventId)).toBe(1);
});

test("a conflict on every attempt answers CONFLICT CONCURRENT_TRANSACTION, nothing written", async () => {
  const { manager, member } = await newTenant(app);
  const eventId = await createEvent(app, manager.token, { name: "Deadlocked always" });
  const { status, body } = await joinThroughDeadlocks(eventId, member.id, TRANSACTION_ATTEMPTS, () =>
    app.graphql(JOIN, { id: eventId }, member.token),
  );
  expect(status).toBe(200);
  expect(body.data).toEqual({ joinEvent: null });
  expect(body.errors).toEqual([
    expect.objectContaining({
      message: expect.stringContaining("send it again"),
      extensions: expect.objectContaining({ code: "CONFLICT", details: { reason: "CONCURRENT_TRANSACTION" } }),
    }),
  ]);
  // Answered with a code of the table: not an INTERNAL error logged for the operator.
  expect(logLines.filter((line) => JSON.parse(line).level >= 50)).toEqual([]);
  expect(await participants(eventId)).toBe(0);
});
