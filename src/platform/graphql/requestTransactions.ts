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
 * Each `withPgClient` call remains its own transaction, as with PostGraphile's adaptor: the pinned
 * transaction serves the first call only, later or concurrent calls of the same request take a
 * connection of their own, and a request that never reaches the database rolls the pinned
 * transaction back once its answer is made (or its response has closed, whichever is first).
 * src/platform/http/authenticate.ts pins only once the request's body is in.
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

  /** PostGraphile's `withPgClient`: one transaction per call when there are settings, as its own adaptor does. */
  readonly withPgClient: WithPgClient<NodePostgresPgClient> = async (pgSettings, callback) => {
    const pinned = pgSettings ? this.pins.get(pgSettings) : undefined;
    const taken = pinned?.state === "open" ? pinned : undefined;
    if (taken) taken.state = "taken";
    const client = taken?.client ?? (await this.pool.connect());
    const begin = taken ? "" : beginWith(pgSettings ?? {});
    const inTransaction = taken !== undefined || begin !== "";
    let broken: Error | undefined;
    try {
      const setup = taken ? "" : this.setupOf(client);
      if (setup || begin) await client.query(setup + begin);
      const result = await makeWithPgClientViaPgClientAlreadyInTransaction(client, inTransaction)(null, callback);
      if (inTransaction) await client.query("commit");
      return result;
    } catch (error) {
      if (inTransaction) await client.query("rollback").catch((rollbackError: Error) => (broken = rollbackError));
      throw error;
    } finally {
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
