/**
 * A request's transaction that PostgreSQL aborts for another one — a deadlock's victim (40P01) or a
 * serialization failure (40001) — is run again, whole: the client sees its change done. A conflict
 * on every attempt answers CONFLICT `CONCURRENT_TRANSACTION`, not a 500, with nothing written. Over
 * GraphQL (a statement alone in its transaction) and over the bot REST API (a request's whole
 * transaction).
 *
 * The deadlocks are real. Another transaction holds a row the request's statement will wait for;
 * once the request waits for it, that transaction asks for a row the request holds. PostgreSQL
 * checks a waiting backend for a cycle once, `deadlock_timeout` after it began to wait: the test
 * database's is 5 s, so the cycle is closed long before the request's check (a check that ran
 * before would find none and never look again), and the other transaction's is a minute, so the
 * request's check is the one that finds it, and the request is the victim.
 *
 * A conflict on every attempt comes from a trigger of the test database that raises 40001 on the
 * first N inserts it sees (a sequence counts them: it is not undone with the aborted transaction),
 * so the number of attempts the server makes is counted too.
 */
import { TRANSACTION_ATTEMPTS } from "../../src/platform/db/conflicts.ts";
import { bot, createProduct, createStore } from "../commerce/store.ts";
import { createEvent, JOIN, newTenant } from "../events/helpers.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { until } from "../helpers/wait.ts";

let app: TestApp;
const logLines: string[] = [];

beforeAll(async () => {
  app = await startTestApp({
    logLines,
    prepareDatabase: async (db) => {
      await db.rootPool.query(`alter database ${db.name} set deadlock_timeout = '5s'`);
      await db.rootPool.query(`
        create sequence public.conflict_calls;
        create table public.conflicts_wanted (n int not null);
        insert into public.conflicts_wanted values (0);
        create function public.raise_conflicts() returns trigger language plpgsql security definer
          set search_path = pg_catalog as $$
        begin
          if nextval('public.conflict_calls') <= (select n from public.conflicts_wanted) then
            raise exception 'could not serialize access (a conflict the test asked for)' using errcode = '40001';
          end if;
          return new;
        end $$;
        create trigger _000_raise_conflicts before insert on app_public.event_participants
          for each row execute function public.raise_conflicts();
        create trigger _000_raise_conflicts before insert on app_public.orders
          for each row execute function public.raise_conflicts();`);
    },
  });
});
afterAll(() => app.stop());

/** The next `n` inserts into event_participants or orders fail with 40001; answers how many were tried. */
async function conflicts(n: number): Promise<() => Promise<number>> {
  await app.db.rootPool.query("alter sequence public.conflict_calls restart");
  await app.db.rootPool.query("update public.conflicts_wanted set n = $1", [n]);
  return async () => {
    const { rows } = await app.db.rootPool.query<{ n: string; called: boolean }>(
      "select last_value::text as n, is_called as called from public.conflict_calls",
    );
    return rows[0]!.called ? Number(rows[0]!.n) : 0;
  };
}

/**
 * Runs `request` while another transaction deadlocks it once, then rolls back. `held` locks the row
 * the request will wait for; `taken` asks for the row the request holds then.
 */
async function throughADeadlock<T>(
  held: [string, unknown[]],
  taken: [string, unknown[]],
  request: () => Promise<T>,
): Promise<T> {
  const other = await app.db.rootPool.connect();
  let failed = false;
  try {
    await other.query("begin");
    await other.query("set local deadlock_timeout = '60s'");
    await other.query(...held);
    const { rows } = await other.query<{ xid: string }>(
      "select transactionid::text as xid from pg_locks " +
        "where pid = pg_backend_pid() and locktype = 'transactionid' and granted",
    );
    // Waits on the row `held` locked are waits on this transaction's id.
    const waitingForHeldRow = async () =>
      (
        await app.db.rootPool.query<{ n: number }>(
          "select count(*)::int as n from pg_locks " +
            "where locktype = 'transactionid' and not granted and transactionid::text = $1",
          [rows[0]!.xid],
        )
      ).rows[0]!.n > 0;
    const answer = request();
    await until(waitingForHeldRow, "the request to wait for the held row");
    // Returns once PostgreSQL has aborted the request.
    await other.query(...taken);
    await other.query("rollback");
    return await answer;
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    // Never back to the pool inside a transaction, with its locks.
    if (failed) await other.query("rollback").catch(() => undefined);
    other.release(failed);
  }
}

const count = async (sql: string, values: unknown[]) =>
  (await app.db.ownerPool.query<{ n: number }>(`select count(*)::int as n from ${sql}`, values)).rows[0]!.n;

const errorLines = () => logLines.filter((line) => JSON.parse(line).level >= 50);

describe("GraphQL: joinEvent", () => {
  const participants = (eventId: string) => count("app_public.event_participants where event_id = $1", [eventId]);

  test("aborted as a deadlock's victim (it holds the event, waits for its user row), it is sent again", async () => {
    const { manager, member } = await newTenant(app);
    const eventId = await createEvent(app, manager.token, { name: "Deadlocked once" });
    const { status, body } = await throughADeadlock(
      ["select 1 from app_public.users where id = $1 for update", [member.id]],
      ["select 1 from app_public.events where id = $1 for update", [eventId]],
      () => app.graphql(JOIN, { id: eventId }, member.token),
    );
    expect(body.errors).toBeUndefined();
    expect(status).toBe(200);
    expect(body.data).toEqual({ joinEvent: { participant: { rowId: expect.any(String), status: "PARTICIPATING" } } });
    expect(await participants(eventId)).toBe(1);
  });

  test(`a conflict on each of ${TRANSACTION_ATTEMPTS} attempts: CONFLICT CONCURRENT_TRANSACTION`, async () => {
    const { manager, member } = await newTenant(app);
    const eventId = await createEvent(app, manager.token, { name: "Conflicted always" });
    const tried = await conflicts(TRANSACTION_ATTEMPTS);
    const { status, body } = await app.graphql(JOIN, { id: eventId }, member.token);
    expect(status).toBe(200);
    expect(body.data).toEqual({ joinEvent: null });
    expect(body.errors).toEqual([
      expect.objectContaining({
        message: expect.stringContaining("send it again"),
        extensions: expect.objectContaining({ code: "CONFLICT", details: { reason: "CONCURRENT_TRANSACTION" } }),
      }),
    ]);
    expect(await tried()).toBe(TRANSACTION_ATTEMPTS);
    expect(await participants(eventId)).toBe(0);
    // A code of the table: not an INTERNAL error logged for the operator.
    expect(errorLines()).toEqual([]);
  });

  test("a conflict on all attempts but the last: done", async () => {
    const { manager, member } = await newTenant(app);
    const eventId = await createEvent(app, manager.token, { name: "Conflicted twice" });
    const tried = await conflicts(TRANSACTION_ATTEMPTS - 1);
    const { body } = await app.graphql(JOIN, { id: eventId }, member.token);
    expect(body.errors).toBeUndefined();
    expect(await tried()).toBe(TRANSACTION_ATTEMPTS);
    expect(await participants(eventId)).toBe(1);
  });
});

describe("bot REST: an order", () => {
  async function store() {
    const shop = await createStore(app);
    // Same price: the total does not depend on which id sorts first.
    const [first, second] = [
      await createProduct(app, shop.admin, { name: "Contended A", price: "5.00" }),
      await createProduct(app, shop.admin, { name: "Contended B", price: "5.00" }),
    ].sort();
    const api = bot(app, shop);
    const telegramId = 7_000 + Math.floor(Math.random() * 1_000_000);
    const customer = await api.post("/api/bot/customers", { telegramId });
    expect(customer.status).toBe(201);
    const order = () =>
      api.post("/api/bot/orders", {
        telegramId,
        items: [
          { productId: first, quantity: 2 },
          { productId: second, quantity: 1 },
        ],
      });
    const orders = () => count("app_public.orders where customer_id = $1", [customer.body.id]);
    return { first: first!, second: second!, order, orders };
  }

  test("aborted as a deadlock's victim (it share-locks its products in id order), it is run again", async () => {
    const { first, second, order, orders } = await store();
    const answer = await throughADeadlock(
      ["select 1 from app_public.products where id = $1 for update", [second]],
      ["select 1 from app_public.products where id = $1 for update", [first]],
      async () => await order(),
    );
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ status: "pending", total: "15.00" });
    expect(await orders()).toBe(1);
  });

  test(`a conflict on each of ${TRANSACTION_ATTEMPTS} attempts: 409 CONFLICT CONCURRENT_TRANSACTION`, async () => {
    const { order, orders } = await store();
    const tried = await conflicts(TRANSACTION_ATTEMPTS);
    const answer = await order();
    expect(answer.status).toBe(409);
    expect(answer.body.error).toMatchObject({ code: "CONFLICT", details: { reason: "CONCURRENT_TRANSACTION" } });
    expect(await tried()).toBe(TRANSACTION_ATTEMPTS);
    expect(await orders()).toBe(0);
    expect(errorLines()).toEqual([]);
  });
});
