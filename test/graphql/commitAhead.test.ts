/**
 * The request transactions PostGraphile runs its statements in (src/platform/graphql/requestTransactions.ts):
 * a statement goes out with its `commit` in one write, so each must still run with the request's
 * settings, commit when it succeeds, roll back when it fails, and leave the connection idle and
 * usable; statements inside `withTransaction` must still share one transaction.
 */
import type { NodePostgresPgClient } from "postgraphile/adaptors/pg";
import type pg from "pg";
import { deriveVisitorRole } from "../../src/platform/config.ts";
import { toAppError } from "../../src/platform/errors.ts";
import { RequestTransactions } from "../../src/platform/graphql/requestTransactions.ts";
import { createTestDatabase, type TestDatabase, testPool } from "../helpers/database.ts";

let db: TestDatabase;
let pool: pg.Pool;
let transactions: RequestTransactions;
let settings: Record<string, string>;

beforeAll(async () => {
  db = await createTestDatabase();
  // One connection: every call below runs on the connection the call before it left.
  pool = testPool(db.urls.authenticatorUrl, 1, "test-requests");
  transactions = new RequestTransactions(pool);
  settings = { role: deriveVisitorRole(db.urls.authenticatorUrl), "jwt.claims.user_id": "commit-ahead" };
});
afterAll(async () => {
  await pool.end();
  await db.drop();
});

interface Seen {
  xid: string;
  role: string;
  claim: string;
}

const SEEN =
  "select pg_current_xact_id()::text as xid, current_user as role, " +
  "current_setting('jwt.claims.user_id', true) as claim";

async function seen(client: NodePostgresPgClient): Promise<Seen> {
  const { rows } = await client.query<Seen>({ text: SEEN, values: [] });
  return rows[0]!;
}

/** What became of a transaction, asked on another connection: committed, aborted or in progress. */
async function statusOf(xid: string): Promise<string> {
  const { rows } = await db.rootPool.query<{ status: string }>("select pg_xact_status($1::xid8) as status", [xid]);
  return rows[0]!.status;
}

/** Whether the request connection is inside a transaction now (it must never be between calls). */
async function requestConnectionInTransaction(): Promise<boolean> {
  const { rows } = await db.rootPool.query<{ open: boolean }>(
    "select bool_or(xact_start is not null) as open from pg_stat_activity " +
      "where datname = current_database() and usename = $1",
    [new URL(db.urls.authenticatorUrl).username],
  );
  return rows[0]!.open;
}

/** Counts the writes of the connection's socket from now on; `stop` answers the count and stops counting. */
function countWrites(client: NodePostgresPgClient): { stop(): number } {
  const raw = client.rawClient as unknown as { connection: { stream: Record<string, unknown> } };
  const stream = raw.connection.stream as Record<"_write" | "_writev", (...args: unknown[]) => void>;
  const originals = { _write: stream._write, _writev: stream._writev };
  let writes = 0;
  for (const method of ["_write", "_writev"] as const) {
    stream[method] = (...args: unknown[]) => {
      writes++;
      return originals[method].apply(stream, args);
    };
  }
  return {
    stop() {
      Object.assign(stream, originals);
      return writes;
    },
  };
}

test("a statement runs with the settings and commits, in one write with its commit", async () => {
  let writes: { stop(): number } | undefined;
  const row = await transactions.withPgClient(settings, async (client) => {
    writes = countWrites(client);
    return seen(client);
  });
  expect(row).toMatchObject({ role: settings.role, claim: "commit-ahead" });
  // The statement and its commit: one write, where `begin`, the statement and `commit` each took one.
  expect(writes?.stop()).toBe(1);
  expect(await statusOf(row.xid)).toBe("committed");
  expect(await requestConnectionInTransaction()).toBe(false);
});

test("a second statement of the same call runs with the same settings, in a transaction of its own", async () => {
  const [first, second] = await transactions.withPgClient(settings, async (client) => [
    await seen(client),
    await seen(client),
  ]);
  expect(first).toMatchObject({ role: settings.role, claim: "commit-ahead" });
  expect(second).toMatchObject({ role: settings.role, claim: "commit-ahead" });
  expect(second!.xid).not.toBe(first!.xid);
  expect([await statusOf(first!.xid), await statusOf(second!.xid)]).toEqual(["committed", "committed"]);
  expect(await requestConnectionInTransaction()).toBe(false);
});

test("statements inside withTransaction share one transaction, committed or rolled back together", async () => {
  const together = await transactions.withPgClient(settings, (client) =>
    client.withTransaction(async (inner) => [await seen(inner), await seen(inner)]),
  );
  expect(together[1]!.xid).toBe(together[0]!.xid);
  expect(together[1]).toMatchObject({ role: settings.role, claim: "commit-ahead" });
  expect(await statusOf(together[0]!.xid)).toBe("committed");

  let xid = "";
  const failed = transactions.withPgClient(settings, (client) =>
    client.withTransaction(async (inner) => {
      xid = (await seen(inner)).xid;
      await inner.query({ text: "select 1 / 0", values: [] });
    }),
  );
  await expect(failed).rejects.toThrow("division by zero");
  expect(await statusOf(xid)).toBe("aborted");
  expect(await requestConnectionInTransaction()).toBe(false);
});

test("a failed statement rolls its transaction back; the connection serves the next call", async () => {
  let xid = "";
  const failed = transactions.withPgClient(settings, async (client) => {
    client.rawClient.addListener("notice", (notice: { message?: string }) => (xid = notice.message ?? ""));
    await client.query({
      text: "do $$ begin raise notice '%', pg_current_xact_id(); perform 1 / 0; end $$",
      values: [],
    });
  });
  await expect(failed).rejects.toThrow("division by zero");
  expect(xid).toMatch(/^\d+$/);
  expect(await statusOf(xid)).toBe("aborted");
  expect(await requestConnectionInTransaction()).toBe(false);

  const next = await transactions.withPgClient(settings, seen);
  expect(next).toMatchObject({ role: settings.role, claim: "commit-ahead" });
  expect(await statusOf(next.xid)).toBe("committed");
});

test("a statement after a failed one in the same call runs in a new transaction with the settings", async () => {
  const after = await transactions.withPgClient(settings, async (client) => {
    await expect(client.query({ text: "select 1 / 0", values: [] })).rejects.toThrow("division by zero");
    return seen(client);
  });
  expect(after).toMatchObject({ role: settings.role, claim: "commit-ahead" });
  expect(await statusOf(after.xid)).toBe("committed");
});

test("each new connection turns JIT optimisation off, even when its first statement fails", async () => {
  const fresh = testPool(db.urls.authenticatorUrl, 1, "test-fresh");
  try {
    const requests = new RequestTransactions(fresh);
    const jit = { text: "select current_setting('jit_optimize_above_cost') as jit", values: [] };
    await expect(
      requests.withPgClient(settings, (client) => client.query({ text: "select 1 / 0", values: [] })),
    ).rejects.toThrow("division by zero");
    const after = await requests.withPgClient(settings, (client) => client.query<{ jit: string }>(jit));
    const anonymous = await requests.withPgClient(null, (client) => client.query<{ jit: string }>(jit));
    expect([after.rows[0]!.jit, anonymous.rows[0]!.jit]).toEqual(["-1", "-1"]);
    expect(fresh.totalCount).toBe(1);
  } finally {
    await fresh.end();
  }
});

test("a statement prepared before its schema changed: SERVICE_UNAVAILABLE once, then a new connection", async () => {
  // Fails on the code before: the connection went back to the pool and refused the statement on
  // every call after (0A000, answered INTERNAL) until the process restarted — as after a restore.
  await db.rootPool.query("create table public.stale_probe (a int)");
  await db.rootPool.query(`grant select on public.stale_probe to ${settings.role}`);
  const probe = (client: NodePostgresPgClient) =>
    client.query<{ a: number }>({ text: "select * from public.stale_probe", values: [], name: "stale_probe" });
  await transactions.withPgClient(settings, probe);
  await db.rootPool.query("alter table public.stale_probe add column b int");
  const error = await transactions.withPgClient(settings, probe).then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(toAppError(error)).toMatchObject({
    code: "SERVICE_UNAVAILABLE",
    status: 503,
    details: { reason: "SCHEMA_CHANGED" },
  });
  // The pool made a new connection: the statement is prepared again there and runs.
  expect((await transactions.withPgClient(settings, probe)).rows).toEqual([]);
  expect(await requestConnectionInTransaction()).toBe(false);
});
