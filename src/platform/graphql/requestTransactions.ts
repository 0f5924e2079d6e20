/**
 * PostGraphile's database access with fewer round trips. Every statement a request sends is a
 * system call and a wait, and on a small machine they are most of the request's cost, so:
 *
 * - A transaction starts with `begin` and the request's settings (role, claims, statement timeout)
 *   in one simple-protocol message, where PostGraphile's own adaptor sends two statements.
 * - An HTTP GraphQL request with a token checks its session in that same message
 *   (`openSession`): the session check, `begin` and the claims are one round trip on the
 *   connection the request's first database access then uses. The check still happens before
 *   anything runs, and a dead session is still UNAUTHENTICATED (401) before execution.
 *
 * - A statement goes out with its `commit` in the same write (CommitAhead, below), and on a
 *   connection not taken from a session check, after `begin` and the settings in that write too.
 *   PostGraphile's callbacks send one statement each, so a `withPgClient` call costs one round trip.
 *
 * The pinned transaction serves the request's first `withPgClient` call only; later or concurrent
 * calls of the same request take a connection of their own, and a request that never reaches the
 * database rolls the pinned transaction back once its answer is made (or its response has closed,
 * whichever is first). src/platform/http/authenticate.ts pins only once the request's body is in.
 */
import type { WithPgClient } from "postgraphile/@dataplan/pg";
import { makeWithPgClientViaPgClientAlreadyInTransaction, type NodePostgresPgClient } from "postgraphile/adaptors/pg";
import type pg from "pg";
import { SESSION_ENDED } from "../auth/sessionCheck.ts";
import type { AccessClaims } from "../auth/tokens.ts";
import { beginWith, quoteLiteral, settingsOnly } from "../db/pools.ts";
import { AppError } from "../errors.ts";
import type { AuthenticatedRequest } from "./context.ts";

/** A transaction opened by a request's session check, waiting for the request's first database access. */
export interface PinnedTransaction {
  /** The settings the transaction runs with: the request's pgSettings, as one object. */
  settings: Record<string, string>;
  client: pg.PoolClient;
  state: "open" | "taken" | "ended";
  /** Rolls the transaction back and returns its connection, unless a database access took it. */
  end(): Promise<void>;
}

interface SessionClaimsRow {
  session_id: string;
  user_id: string;
  tenant_id: string;
  role: string;
}

/** PostgreSQL's JIT is for long analytical queries; PostGraphile turns its optimisation off per connection. */
const CONNECTION_SETUP = "set jit_optimize_above_cost = -1; ";

export class RequestTransactions {
  private readonly pins = new WeakMap<object, PinnedTransaction>();
  private readonly setUp = new WeakSet<pg.ClientBase>();
  private readonly pool: pg.Pool;

  /** `pool` connects as the authenticator (the pool PostGraphile runs the requests on). */
  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  /**
   * Checks the session of verified token claims and opens the request's transaction with its
   * settings, in one round trip. `settingsFor` gives the pgSettings of the confirmed claims.
   * Answers the claims to use (the database's: user, tenant and current role of the session).
   */
  async openSession(
    presented: AccessClaims,
    settingsFor: (claims: AccessClaims) => Record<string, string>,
  ): Promise<{ claims: AccessClaims; pinned: PinnedTransaction }> {
    const sub = presented.sub.toLowerCase();
    const tid = presented.tid.toLowerCase();
    const sid = presented.sid.toLowerCase();
    // Every setting but the role claim, which is the session's and is set from its row.
    const settings = settingsFor({ ...presented, sub, tid, sid, role: "" });
    const { "jwt.claims.role": _role, ...known } = settings;
    const client = await this.pool.connect();
    let session: SessionClaimsRow | undefined;
    try {
      // The session is read as the authenticator, before the settings switch to the request's role.
      const results = (await client.query(
        `${this.setupOf(client)}begin; select s.*, set_config('jwt.claims.role', s.role::text, true) as role_claim` +
          ` from app_hidden.session_claims(array[${quoteLiteral(sid)}]::uuid[]) s; ${settingsOnly(known)}`,
      )) as unknown as pg.QueryResult<SessionClaimsRow>[];
      session = results.find((result) => result.fields.some((field) => field.name === "role_claim"))?.rows[0];
    } catch (error) {
      await this.endOn(client);
      throw error;
    }
    const refusal = !session
      ? SESSION_ENDED
      : session.user_id !== sub || session.tenant_id !== tid
        ? "The access token is not valid."
        : undefined;
    if (refusal || !session) {
      await this.endOn(client);
      throw new AppError("UNAUTHENTICATED", refusal ?? SESSION_ENDED);
    }
    const claims = { ...presented, sub, tid, sid: session.session_id, role: session.role };
    const pinned: PinnedTransaction = {
      settings: settingsFor(claims),
      client,
      state: "open",
      end: () => this.release(pinned),
    };
    this.pins.set(pinned.settings, pinned);
    return { claims, pinned };
  }

  /** Ends a pinned transaction nobody took (its request is over); a no-op once taken or ended. */
  private async release(pinned: PinnedTransaction): Promise<void> {
    if (pinned.state !== "open") return;
    pinned.state = "ended";
    await this.endOn(pinned.client);
  }

  /**
   * PostGraphile's `withPgClient`: with settings, each statement of the callback runs in a
   * transaction with them, committed in the same write as the statement (see CommitAhead); without
   * settings, the statements run as they are.
   */
  readonly withPgClient: WithPgClient<NodePostgresPgClient> = async (pgSettings, callback) => {
    const pinned = pgSettings ? this.pins.get(pgSettings) : undefined;
    const taken = pinned?.state === "open" ? pinned : undefined;
    if (taken) taken.state = "taken";
    const client = taken?.client ?? (await this.pool.connect());
    const settings = pgSettings ?? {};
    let opening = "";
    if (!taken) {
      const set = settingsOnly(settings);
      if (set === "") {
        try {
          const setup = this.setupOf(client);
          if (setup) await client.query(setup);
          return await makeWithPgClientViaPgClientAlreadyInTransaction(client, false)(null, callback);
        } finally {
          client.release();
        }
      }
      // The first statement of a connection not taken from a session check opens its transaction
      // in the same write: one round trip for the whole call. `begin` comes first in that message,
      // so that if anything after it fails, the statement written behind fails too (the
      // transaction is aborted) instead of running without the settings.
      opening = `begin; ${this.setupOf(client)}${set}`;
    }
    const transaction = new CommitAhead(client, settings, opening);
    let broken: Error | undefined;
    try {
      const result = await makeWithPgClientViaPgClientAlreadyInTransaction(transaction.client, true)(null, callback);
      await transaction.end("commit");
      return result;
    } catch (error) {
      await transaction.end("rollback").catch((rollbackError: Error) => (broken = rollbackError));
      throw error;
    } finally {
      transaction.close();
      client.release(broken);
    }
  };

  /**
   * Ends the pinned transaction of a request that did not use it as soon as grafserv has made the
   * answer (not sent it), whatever the outcome: the operation has run, or it was a syntax error or
   * a method grafserv refuses. A response the client reads slowly, or one queued behind others on a
   * pipelined connection, holds no database connection.
   */
  readonly plugin: GraphileConfig.Plugin = {
    name: "RequestTransactionsPlugin",
    version: "1.0.0",
    grafserv: {
      middleware: {
        async processRequest(next, event) {
          try {
            return await next();
          } finally {
            const req = event.requestDigest.requestContext.expressv4?.req as AuthenticatedRequest | undefined;
            void req?.pinned?.end();
          }
        },
      },
    },
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

  private setupOf(client: pg.ClientBase): string {
    if (this.setUp.has(client)) return "";
    this.setUp.add(client);
    return CONNECTION_SETUP;
  }

  /** Rolls back and returns the connection; one the rollback cannot reach is discarded. */
  private async endOn(client: pg.PoolClient): Promise<void> {
    let broken: Error | undefined;
    await client.query("rollback").catch((error: Error) => (broken = error));
    client.release(broken);
  }
}

/** The savepoint statements PostGraphile's adaptor sends for `withTransaction` in a transaction. */
const SAVEPOINT = /^(savepoint|release savepoint|rollback to savepoint) \w+$/;

type QueryConfig = pg.QueryConfig | string;

/**
 * A request transaction whose `commit` travels with its statement. Each statement costs a write
 * (a system call) and a round trip; `begin`, the statement and `commit` used to cost three. Here a
 * statement sent outside a savepoint goes out in one write with the `commit` behind it (node-postgres'
 * pipeline mode), so the transaction ends with its one statement. Should the callback send another,
 * `begin` and the same settings go out in that statement's write first: its own transaction, with the
 * same role and claims. If a statement fails, the `commit` behind it rolls the transaction back (a
 * failed transaction cannot commit). Statements inside `withTransaction` (between the adaptor's
 * savepoints) stay in one transaction, which commits when the call ends.
 *
 * PostGraphile's callbacks send one statement each (a query, a mutation's function call), so each
 * `withPgClient` call is one round trip after the session check, or one in all on a connection
 * not taken from a session check.
 */
class CommitAhead {
  private readonly raw: pg.PoolClient & { pipeline: boolean };
  private readonly settings: Record<string, string | undefined>;
  private opening: string;
  private open: boolean;
  private savepoints = 0;

  /**
   * `client` is in a transaction with the settings when `opening` is ""; otherwise `opening` starts
   * one. A transaction opened again (a second statement) gets `settings` again.
   */
  constructor(client: pg.PoolClient, settings: Record<string, string | undefined>, opening: string) {
    this.raw = client as pg.PoolClient & { pipeline: boolean };
    this.settings = settings;
    this.opening = opening;
    this.open = opening === "";
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
    const opening = this.open ? "" : this.opening || beginWith(this.settings);
    const commit = this.savepoints === 0 && !savepoint;
    this.open = !commit;
    this.opening = "";
    const [, result] = await this.sendTogether([opening, config, commit ? "commit" : ""]);
    return result!;
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
