/**
 * A request's transaction that PostgreSQL aborts for another one (here a deadlock's victim) is
 * run again, whole: the client sees its change done. A conflict on every attempt answers CONFLICT
 * `CONCURRENT_TRANSACTION`, not a 500, with nothing written. Over GraphQL (a statement alone in its
 * transaction) and over the bot REST API (a request's whole transaction).
 *
 * The deadlocks are real. Another transaction holds a row the request's statement will wait for;
 * once the request waits for it, that transaction asks for a row the request holds. Its deadlock
 * timeout is a minute, so PostgreSQL's check runs first in the request's backend and aborts the
 * request. A savepoint gives the second row back, so that the next attempt can deadlock again.
 */
import { TRANSACTION_ATTEMPTS } from "../../src/platform/db/conflicts.ts";
import { createEvent, JOIN, newTenant } from "../events/helpers.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { until } from "../helpers/wait.ts";
import { bot, createProduct, createStore } from "../commerce/store.ts";

let app: TestApp;
const logLines: string[] = [];

beforeAll(async () => {
  app = await startTestApp({ logLines });
});
afterAll(() => app.stop());

/**
 * Runs `request` while another transaction deadlocks it `times` times, then rolls back.
 * `held` locks the row the request will wait for; `taken` asks for the row the request holds then.
 */
async function throughDeadlocks<T>(
  times: number,
  held: [string, unknown[]],
  taken: [string, unknown[]],
  request: () => Promise<T>,
): Promise<T> {
  const other = await app.db.rootPool.connect();
  try {
    await other.query("begin");
    await other.query("set local deadlock_timeout = '60s'");
    await other.query(...held);
    const { rows } = await other.query<{ xid: string }>(
      "select transactionid::text as xid from pg_locks " +
        "where pid = pg_backend_pid() and locktype = 'transactionid' and granted",
    );
    // Waits on the row `held` locked are waits on this transaction's own id (not its savepoint's).
    const waitingForHeldRow = async () =>
      (
        await app.db.rootPool.query<{ n: number }>(
          "select count(*)::int as n from pg_locks " +
            "where locktype = 'transactionid' and not granted and transactionid::text = $1",
          [rows[0]!.xid],
        )
      ).rows[0]!.n > 0;
    const answer = request();
    for (let round = 1; round <= times; round++) {
      await until(waitingForHeldRow, `the request to wait for the held row (round ${round})`);
      // Returns once PostgreSQL has aborted the request.
      await other.query("savepoint taken");
      await other.query(...taken);
      await other.query("rollback to savepoint taken");
    }
    await other.query("rollback");
    return await answer;
  } finally {
    other.release();
  }
}

const count = async (sql: string, values: unknown[]) =>
  (await app.db.ownerPool.query<{ n: number }>(`select count(*)::int as n from ${sql}`, values)).rows[0]!.n;

const errorLines = () => logLines.filter((line) => JSON.parse(line).level >= 50);

describe("GraphQL: joinEvent locks the event, then waits for the member's user row (its foreign key)", () => {
  async function joinDeadlocked(times: number) {
    const { manager, member } = await newTenant(app);
    const eventId = await createEvent(app, manager.token, { name: `Deadlocked ${times}×` });
    const answer = await throughDeadlocks(
      times,
      ["select 1 from app_public.users where id = $1 for update", [member.id]],
      ["select 1 from app_public.events where id = $1 for update", [eventId]],
      () => app.graphql(JOIN, { id: eventId }, member.token),
    );
    return { ...answer, participants: await count("app_public.event_participants where event_id = $1", [eventId]) };
  }

  test("aborted as a deadlock's victim, it is sent again and succeeds", async () => {
    const { status, body, participants } = await joinDeadlocked(1);
    expect(body.errors).toBeUndefined();
    expect(status).toBe(200);
    expect(body.data).toEqual({ joinEvent: { participant: { rowId: expect.any(String), status: "PARTICIPATING" } } });
    expect(participants).toBe(1);
  });

  test("a conflict on every attempt answers CONFLICT CONCURRENT_TRANSACTION, nothing written", async () => {
    const { status, body, participants } = await joinDeadlocked(TRANSACTION_ATTEMPTS);
    expect(status).toBe(200);
    expect(body.data).toEqual({ joinEvent: null });
    expect(body.errors).toEqual([
      expect.objectContaining({
        message: expect.stringContaining("send it again"),
        extensions: expect.objectContaining({ code: "CONFLICT", details: { reason: "CONCURRENT_TRANSACTION" } }),
      }),
    ]);
    expect(participants).toBe(0);
    // A code of the table: not an INTERNAL error logged for the operator.
    expect(errorLines()).toEqual([]);
  });
});

describe("bot REST: an order share-locks its products in id order, and waits for the second", () => {
  async function orderDeadlocked(times: number) {
    const store = await createStore(app);
    const [first, second] = [
      await createProduct(app, store.admin, { name: "Contended A", price: "5.00" }),
      await createProduct(app, store.admin, { name: "Contended B", price: "5.00" }),
    ].sort();
    const api = bot(app, store);
    const telegramId = 7_000 + times;
    const customer = await api.post("/api/bot/customers", { telegramId });
    expect(customer.status).toBe(201);
    const items = [
      { productId: first, quantity: 2 },
      { productId: second, quantity: 1 },
    ];
    const answer = await throughDeadlocks(
      times,
      ["select 1 from app_public.products where id = $1 for update", [second]],
      ["select 1 from app_public.products where id = $1 for update", [first]],
      async () => await api.post("/api/bot/orders", { telegramId, items }),
    );
    return { answer, orders: await count("app_public.orders where customer_id = $1", [customer.body.id]) };
  }

  test("aborted as a deadlock's victim, the request is run again and succeeds", async () => {
    const { answer, orders } = await orderDeadlocked(1);
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ status: "pending", total: "15.00" });
    expect(orders).toBe(1);
  });

  test("a conflict on every attempt answers 409 CONFLICT CONCURRENT_TRANSACTION, nothing written", async () => {
    const { answer, orders } = await orderDeadlocked(TRANSACTION_ATTEMPTS);
    expect(answer.status).toBe(409);
    expect(answer.body.error).toMatchObject({ code: "CONFLICT", details: { reason: "CONCURRENT_TRANSACTION" } });
    expect(orders).toBe(0);
    expect(errorLines()).toEqual([]);
  });
});
