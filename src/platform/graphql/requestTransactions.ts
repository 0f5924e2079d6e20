/**
 * PostGraphile's database access with fewer round trips. Every statement a request sends is a
 * system call and a wait, and on a small machine they are most of the request's cost, so a
 * statement goes out in one write with `begin` and the request's settings (role, claims, statement
 * timeout) before it and its `commit` behind it (CommitAhead, below): PostGraphile's callbacks send
 * one statement each, so a `withPgClient` call costs one round trip, where PostGraphile's own
 * adaptor sends four (`begin`, the settings, the statement, `commit`). The settings statement is
 * prepared, the settings its parameter (`settingsStatement`): one text for every request, parsed and
 * planned once per connection.
 *
 * A connection is held only for the call's round trips, never while the engine plans or the
 * request waits for its turn on the event loop; the session check of an authenticated request is
 * a statement of its own before (src/platform/auth/sessionCheck.ts), on whichever connection is free.
 */
import type { WithPgClient } from "postgraphile/@dataplan/pg";
import { makeWithPgClientViaPgClientAlreadyInTransaction, type NodePostgresPgClient } from "postgraphile/adaptors/pg";
import type pg from "pg";
import { settingsStatement } from "../db/pools.ts";
import { retryingConflicts } from "../db/conflicts.ts";
import { isStalePlan } from "../errors.ts";

/** PostgreSQL's JIT is for long analytical queries; PostGraphile turns its optimisation off per connection. */
const CONNECTION_SETUP = "set jit_optimize_above_cost = -1";

export class RequestTransactions {
  private readonly pool: pg.Pool;
  private readonly setUp = new WeakSet<pg.ClientBase>();

  /** `pool` connects as the authenticator (the pool PostGraphile runs the requests on). */
  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  /**
   * PostGraphile's `withPgClient`: with settings, each statement of the callback runs in a
   * transaction with them, opened and committed in the same write as the statement (see
   * CommitAhead); without settings, the statements run as they are.
   */
  readonly withPgClient: WithPgClient<NodePostgresPgClient> = async (pgSettings, callback) => {
    const client = await this.pool.connect();
    if (!this.setUp.has(client)) {
      // Once per connection, on its own: inside a request's transaction it would be undone with it.
      try {
        await client.query(CONNECTION_SETUP);
      } catch (error) {
        client.release(error as Error);
        throw error;
      }
      this.setUp.add(client);
    }
    const settings = settingsStatement(pgSettings ?? {});
    if (!settings) {
      try {
        return await makeWithPgClientViaPgClientAlreadyInTransaction(client, false)(null, callback);
      } finally {
        client.release();
      }
    }
    const transaction = new CommitAhead(client, ["begin", settings]);
    let broken: Error | undefined;
    try {
      const result = await makeWithPgClientViaPgClientAlreadyInTransaction(transaction.client, true)(null, callback);
      await transaction.end("commit");
      return result;
    } catch (error) {
      await transaction.end("rollback").catch((rollbackError: Error) => (broken = rollbackError));
      // Its prepared statements are stale for as long as it lives: the pool makes a new one.
      if (isStalePlan(error)) broken ??= error as Error;
      throw error;
    } finally {
      transaction.close();
      client.release(broken);
    }
  };

  /** A PostGraphile pg service whose requests go through this object. */
  serviceFor<T extends GraphileConfig.PgServiceConfiguration>(service: T): T {
    const adaptor = service.adaptor as unknown as { createWithPgClient: (...args: unknown[]) => unknown };
    return {
      ...service,
      adaptor: {
        ...adaptor,
        createWithPgClient: (settings: unknown, variant?: string | null) =>
          variant === "SUPERUSER" ? adaptor.createWithPgClient(settings, variant) : this.withPgClient,
      },
    };
  }
}

/** The savepoint statements PostGraphile's adaptor sends for `withTransaction` in a transaction. */
const SAVEPOINT = /^(savepoint|release savepoint|rollback to savepoint) \w+$/;

type QueryConfig = pg.QueryConfig | string;

/**
 * A request transaction that opens and ends with its statement. Each statement costs a write (a
 * system call) and a round trip; `begin` with the settings, the statement and `commit` used to cost
 * three. Here a statement sent outside a savepoint goes out in one write, after `begin` and the
 * settings and before `commit` (node-postgres' pipeline mode), so its transaction is one round trip.
 * Should the callback send another statement, it gets a transaction of its own in the same way, with
 * the same role and claims. If a statement fails, the `commit` behind it rolls the transaction back
 * (a failed transaction cannot commit). Statements inside `withTransaction` (between the adaptor's
 * savepoints) stay in one transaction, which commits when the call ends.
 */
class CommitAhead {
  private readonly raw: pg.PoolClient & { pipeline: boolean };
  private readonly opening: QueryConfig[];
  private open = false;
  private savepoints = 0;

  /** `opening` opens a transaction with the request's settings: `begin`, then the settings statement. */
  constructor(client: pg.PoolClient, opening: QueryConfig[]) {
    this.raw = client as pg.PoolClient & { pipeline: boolean };
    this.opening = opening;
    // Statements are written without waiting for the answers before them; each still waits here
    // for its own answer before the next is sent, unless sent together (below).
    this.raw.pipeline = true;
  }

  /** What the adaptor is given in place of the pg client: `query` goes through this object. */
  get client(): pg.PoolClient {
    return this as unknown as pg.PoolClient;
  }

  // What the adaptor uses of a pg client besides `query`: the prepared statements' bookkeeping and notices.
  get connection(): unknown {
    return (this.raw as unknown as { connection: unknown }).connection;
  }

  escapeIdentifier(name: string): string {
    return this.raw.escapeIdentifier(name);
  }

  addListener(event: "notice", listener: (notice: Error) => void): this {
    this.raw.addListener(event, listener);
    return this;
  }

  removeListener(event: "notice", listener: (notice: Error) => void): this {
    this.raw.removeListener(event, listener);
    return this;
  }

  /** Ends the transaction if it is still open: `commit` after a success, `rollback` after a failure. */
  async end(how: "commit" | "rollback"): Promise<void> {
    if (!this.open) return;
    this.open = false;
    await this.raw.query(how);
  }

  /** Gives the connection back its ordinary mode; every answer has been read by then. */
  close(): void {
    this.raw.pipeline = false;
  }

  /** `query(config)` as the adaptor calls it, or `query(text, values)` as pg's own clients take it. */
  async query(statement: QueryConfig, values?: unknown[]): Promise<pg.QueryResult> {
    const config = typeof statement === "string" && values ? { text: statement, values } : statement;
    const text = typeof config === "string" ? config : (config.text ?? "");
    const savepoint = SAVEPOINT.exec(text)?.[1];
    if (savepoint) this.savepoints += savepoint === "savepoint" ? 1 : -1;
    // The adaptor's prepared-statement cache drops a statement it evicts; that needs no transaction.
    if (text.startsWith("deallocate ")) return this.raw.query(config);
    // `begin` comes first in the opening, so that if anything after it fails, the statement
    // written behind fails too (the transaction is aborted) instead of running without the settings.
    const opening = this.open ? [] : this.opening;
    const commit = this.savepoints === 0 && !savepoint;
    this.open = !commit;
    // A transaction of this statement alone, rolled back whole by PostgreSQL as a deadlock's victim
    // or a serialization failure, is sent again: nothing of it stayed, and the same statement after
    // the other transaction is what the client would send.
    const send = async () => (await this.sendTogether([...opening, config, commit ? "commit" : ""]))[opening.length]!;
    return opening.length > 0 && commit ? retryingConflicts(send) : send();
  }

  /** Writes the statements ("" skipped) in one write; answers their results once all are in. */
  private async sendTogether(statements: QueryConfig[]): Promise<Array<pg.QueryResult | undefined>> {
    const { stream } = this.connection as { stream: { cork(): void; uncork(): void } };
    stream.cork();
    let answers: Array<Promise<pg.QueryResult> | undefined>;
    try {
      answers = statements.map((statement) => (statement === "" ? undefined : this.raw.query(statement)));
    } finally {
      stream.uncork();
    }
    const settled = await Promise.allSettled(answers);
    const failed = settled.find((outcome) => outcome.status === "rejected");
    if (failed) throw failed.reason;
    return settled.map((outcome) => (outcome as PromiseFulfilledResult<pg.QueryResult | undefined>).value);
  }
}
