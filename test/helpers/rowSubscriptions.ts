/**
 * Subscriptions that follow one row (`buildUpdated(id)`, `broadcastUpdated(id)`): a watcher who may
 * not read the row receives none of its updates, not even empty ones, until it may.
 */
import { listening, type TestApp } from "./app.ts";
import { until } from "./wait.ts";

export interface RowWatch {
  /** The tenant's NOTIFY channel of these rows, e.g. `tenant:<id>:builds`. */
  channel: string;
  id: string;
  /** A subscription document with an `$id: UUID!` variable. */
  query: string;
  /** The row an update carries (`{ rowId, … }`), null when it carries none. */
  rowOf: (data: Record<string, unknown>) => { rowId: string } | null;
  /** May read the row from the start. */
  readerToken: string;
  /** May not, until `grant` runs. */
  watcherToken: string;
  /** A real change of the row, made while the watcher may not read it. */
  change?: () => Promise<unknown>;
  grant: () => Promise<unknown>;
}

/** Runs the scenario and returns what the watcher received (each update's row, or the error). */
export async function watchUntilReadable(app: TestApp, watch: RowWatch): Promise<unknown[]> {
  const follow = (token: string) => {
    const received: unknown[] = [];
    const client = app.wsClient(token);
    client.subscribe(
      { query: watch.query, variables: { id: watch.id } },
      {
        next: (value) => void received.push(value.data ? watch.rowOf(value.data) : value),
        error: (error) => void received.push({ error }),
        complete: () => undefined,
      },
    );
    return { received, client };
  };
  const watcher = follow(watch.watcherToken);
  await listening(app, watch.channel);
  const reader = follow(watch.readerToken);
  const notify = () =>
    app.db.ownerPool.query("select pg_notify($1, $2)", [watch.channel, JSON.stringify({ id: watch.id })]);
  // The reader's subscription is in place once a NOTIFY of the row reaches it; the watcher's was before.
  await until(async () => {
    await notify();
    return reader.received.length > 0;
  }, "an update to the reader");
  if (watch.change) {
    const before = reader.received.length;
    await watch.change();
    await until(() => reader.received.length > before, "the change to the reader");
  }
  await watch.grant();
  await notify();
  await until(() => watcher.received.length > 0, "an update to the watcher once it may read the row");
  await Promise.all([watcher.client.dispose(), reader.client.dispose()]);
  return watcher.received;
}
