/**
 * Ends live subscriptions whose authority has ended. A subscription runs on the session of the
 * token its socket sent in connection_init; it ends with UNAUTHENTICATED
 *
 * - at once when that session is revoked (logout, revokeSession, password change or reset, user
 *   deleted, refresh-token reuse) or its tenant leaves 'active': triggers NOTIFY
 *   `tessera:sessions_ended` (migration 000008) and one LISTEN connection here hears it;
 * - when the token's `exp` passes (a socket's token is never refreshed: the client reconnects
 *   with a new one);
 * - at the latest SWEEP_INTERVAL_MS after the session stopped being live for any other reason
 *   (expiry) or a notification was missed (the LISTEN connection was down; it reconnects and
 *   sweeps at once): every sweep re-checks every watched session in one statement.
 */
import pg from "pg";
import { AppError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { timed, watchClient } from "../db/pools.ts";
import { SESSION_ENDED, type LiveSessions } from "./sessionCheck.ts";

export const SESSIONS_ENDED_CHANNEL = "tessera:sessions_ended";
/** How often every watched session is re-checked (the backstop of the notifications). */
export const SWEEP_INTERVAL_MS = 30_000;
/** A notification is remembered this long, for subscriptions whose check raced it. */
const REMEMBER_ENDED_MS = 60_000;
const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 30_000;
/** setTimeout's longest delay. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface WatchedSubscription {
  sessionId: string;
  tenantId: string;
  /** The token's expiry, seconds since the epoch. */
  exp?: number;
  /** Ends the subscription with this error (called at most once). */
  end(error: AppError): void;
}

interface Entry extends WatchedSubscription {
  timer?: NodeJS.Timeout;
}

export interface SessionWatchOptions {
  /** The owner database URL: one connection of its own LISTENs. */
  connectionString: string;
  liveSessions: LiveSessions;
  logger: Logger;
  sweepIntervalMs?: number;
}

export class SessionWatch {
  readonly #options: SessionWatchOptions;
  readonly #entries = new Set<Entry>();
  readonly #bySession = new Map<string, Set<Entry>>();
  readonly #byTenant = new Map<string, Set<Entry>>();
  /** Sessions and tenants notified as ended recently: id → when. */
  readonly #recentlyEnded = new Map<string, number>();
  #client: pg.Client | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #reconnectDelay = RECONNECT_MIN_MS;
  #sweeping: Promise<void> | undefined;
  #closed = false;

  constructor(options: SessionWatchOptions) {
    this.#options = options;
  }

  /** Connects the LISTEN client and starts the sweep. */
  async start(): Promise<void> {
    try {
      await this.#connect();
    } catch (error) {
      // The sweep still ends dead sessions' subscriptions; the LISTEN connection keeps retrying.
      this.#options.logger.warn({ err: error }, "session watch could not LISTEN; retrying");
      this.#scheduleReconnect();
    }
    const interval = this.#options.sweepIntervalMs ?? SWEEP_INTERVAL_MS;
    this.#sweepTimer = setInterval(() => void this.sweep(), interval);
    this.#sweepTimer.unref();
  }

  /** Watches one subscription until the returned function is called (or it is ended). */
  track(subscription: WatchedSubscription): () => void {
    const entry: Entry = { ...subscription };
    const sessionId = subscription.sessionId.toLowerCase();
    const tenantId = subscription.tenantId.toLowerCase();
    if (this.#wasEnded(sessionId)) {
      // Its session was revoked between the operation's session check and now.
      subscription.end(new AppError("UNAUTHENTICATED", SESSION_ENDED));
      return () => {};
    }
    this.#entries.add(entry);
    addTo(this.#bySession, sessionId, entry);
    addTo(this.#byTenant, tenantId, entry);
    if (subscription.exp !== undefined) {
      const delay = Math.max(0, subscription.exp * 1000 - Date.now());
      entry.timer = setTimeout(() => this.#end(entry, "The access token has expired."), Math.min(delay, MAX_TIMER_MS));
      entry.timer.unref();
    }
    let done = false;
    const untrack = () => {
      done = true;
      clearTimeout(entry.timer);
      this.#entries.delete(entry);
      removeFrom(this.#bySession, sessionId, entry);
      removeFrom(this.#byTenant, tenantId, entry);
    };
    entry.end = (error) => {
      if (done) return;
      untrack();
      subscription.end(error);
    };
    if (this.#wasEnded(tenantId)) {
      // Its tenant left 'active' lately (it may be active again): ask the database.
      this.#options.liveSessions([sessionId]).then(
        (live) => (live.has(sessionId) ? undefined : this.#end(entry, SESSION_ENDED)),
        () => {},
      );
    }
    return untrack;
  }

  /** How many subscriptions are watched (tests, metrics). */
  get size(): number {
    return this.#entries.size;
  }

  /** Re-checks every watched session now; ends the subscriptions of those no longer live. */
  sweep(): Promise<void> {
    this.#sweeping ??= this.#sweep().finally(() => (this.#sweeping = undefined));
    return this.#sweeping;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweepTimer);
    clearTimeout(this.#reconnectTimer);
    for (const entry of this.#entries) clearTimeout(entry.timer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }

  async #sweep(): Promise<void> {
    const sessionIds = [...this.#bySession.keys()];
    try {
      for (let start = 0; start < sessionIds.length; start += 1000) {
        const chunk = sessionIds.slice(start, start + 1000);
        const live = await this.#options.liveSessions(chunk);
        for (const id of chunk) if (!live.has(id)) this.#endAll(this.#bySession.get(id), SESSION_ENDED);
      }
    } catch (error) {
      // The database is out of reach: subscriptions keep running until the next sweep can tell.
      this.#options.logger.warn({ err: error }, "could not re-check the sessions of open subscriptions");
    }
  }

  async #connect(): Promise<void> {
    const client = watchClient(
      new pg.Client(timed({ connectionString: this.#options.connectionString })),
      this.#options.logger,
      "session-watch",
    );
    client.on("notification", (message) => this.#onNotification(message.payload));
    client.once("end", () => {
      if (this.#client === client) this.#client = undefined;
      this.#scheduleReconnect();
    });
    await client.connect();
    await client.query(`LISTEN ${pg.escapeIdentifier(SESSIONS_ENDED_CHANNEL)}`);
    if (this.#closed) {
      await client.end();
      return;
    }
    this.#client = client;
    this.#reconnectDelay = RECONNECT_MIN_MS;
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnectTimer) return;
    const delay = this.#reconnectDelay;
    this.#reconnectDelay = Math.min(delay * 2, RECONNECT_MAX_MS);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#connect()
        // Notifications may have been missed while the connection was down.
        .then(() => this.sweep())
        .catch((error: unknown) => {
          this.#options.logger.warn({ err: error }, "session watch could not LISTEN; retrying");
          this.#scheduleReconnect();
        });
    }, delay);
    this.#reconnectTimer.unref();
  }

  #onNotification(payload: string | undefined): void {
    let message: { sessionId?: unknown; tenantId?: unknown } | null;
    try {
      message = JSON.parse(payload ?? "") as typeof message;
    } catch {
      return;
    }
    // Any role that may connect can NOTIFY this channel: a payload that is no object is nobody's.
    if (typeof message !== "object" || message === null) return;
    const now = Date.now();
    for (const [id, at] of this.#recentlyEnded) if (now - at > REMEMBER_ENDED_MS) this.#recentlyEnded.delete(id);
    if (typeof message.sessionId === "string") {
      const id = message.sessionId.toLowerCase();
      this.#recentlyEnded.set(id, now);
      this.#endAll(this.#bySession.get(id), SESSION_ENDED);
    }
    if (typeof message.tenantId === "string") {
      const id = message.tenantId.toLowerCase();
      this.#recentlyEnded.set(id, now);
      this.#endAll(this.#byTenant.get(id), SESSION_ENDED);
    }
  }

  #wasEnded(id: string): boolean {
    const at = this.#recentlyEnded.get(id);
    return at !== undefined && Date.now() - at <= REMEMBER_ENDED_MS;
  }

  #endAll(entries: Set<Entry> | undefined, message: string): void {
    for (const entry of [...(entries ?? [])]) this.#end(entry, message);
  }

  #end(entry: Entry, message: string): void {
    entry.end(new AppError("UNAUTHENTICATED", message));
  }
}

function addTo(index: Map<string, Set<Entry>>, key: string, entry: Entry): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(entry);
}

function removeFrom(index: Map<string, Set<Entry>>, key: string, entry: Entry): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(entry);
  if (set.size === 0) index.delete(key);
}
