/**
 * Delivers domain events to every consumer registered for their type, in one transaction: each
 * consumer's effect and its delivery records sit behind a savepoint of their own, so a consumer that
 * fails rolls back alone, the ones before it still commit, and a retried job skips them.
 *
 * A job carries one event (`{id}`) or, from a statement that published many, a batch (an array of
 * `{id}`, graphile-worker's batch job). A batch goes to each consumer at once (`handleMany`, one
 * savepoint, one insert of delivery records); if that fails it is rolled back and the consumer takes
 * the batch's events one by one, so only the events that fail alone fail. Those are handed back to
 * graphile-worker, which retries a job holding just them; the rest of the batch is done.
 *
 * The transaction commits without waiting for its WAL flush (synchronous_commit off): the job's
 * completion, written after it, waits for its own flush, which covers this commit too. A crash
 * before that loses at most this delivery, and the job, not completed, delivers it again.
 */
import type { Task } from "graphile-worker";
import type { PoolClient } from "pg";
import type { Consumer, DomainEvent } from "./consumers.ts";

type Delivery = DomainEvent & { delivered: string[] };
type ConsumersByType = Readonly<Record<string, readonly Consumer[]>>;

const MISSING_ID = "domain_event payload needs an id";

export function makeDomainEventTask(consumersByType: ConsumersByType): Task {
  return async (payload, helpers) => {
    const items: unknown[] = Array.isArray(payload) ? payload : [payload];
    const ids = items.map(eventId);
    const wanted = ids.filter((id) => id !== undefined);
    const failures = await helpers.withPgClient(async (client) => {
      await client.query("begin; set local synchronous_commit = off");
      try {
        const events = wanted.length ? await readEvents(client, wanted) : [];
        for (const id of wanted) {
          if (!events.some((event) => event.id === id)) {
            helpers.logger.warn(`domain event ${id} does not exist; nothing to deliver`);
          }
        }
        const failed = await deliverAll(client, events, consumersByType);
        await client.query("commit");
        return failed;
      } catch (error) {
        await client.query("rollback");
        throw error;
      }
    });
    const outcomes = ids.map((id) => (id === undefined ? new Error(MISSING_ID) : failures.get(id)));
    if (!Array.isArray(payload)) {
      if (outcomes[0] !== undefined) throw outcomes[0];
      return;
    }
    // One entry per item: graphile-worker keeps the items whose promise rejects and retries those.
    return outcomes.map((error) => (error === undefined ? undefined : handledRejection(error)));
  };
}

/** The event id an item names (a number or a string of digits), or undefined. */
export function eventId(item: unknown): string | undefined {
  const id = (item as { id?: unknown } | null)?.id;
  if (typeof id === "number" && Number.isSafeInteger(id) && id > 0) return String(id);
  if (typeof id === "string" && /^[1-9]\d{0,17}$/.test(id)) return id;
  return undefined;
}

/** A rejected promise that is already handled, so Node does not report it before graphile-worker reads it. */
function handledRejection(error: unknown): Promise<never> {
  const rejected = Promise.reject(error);
  rejected.catch(() => {});
  return rejected;
}

async function readEvents(client: PoolClient, ids: readonly string[]): Promise<Delivery[]> {
  const { rows } = await client.query<Delivery>(
    `select e.*,
       array(select d.consumer from app_private.domain_event_deliveries d where d.event_id = e.id) as delivered
     from app_private.domain_events e where e.id = any($1::bigint[]) order by e.id`,
    [ids],
  );
  return rows;
}

/** Delivers each type's events to its consumers; returns the error of each event that failed. */
async function deliverAll(
  client: PoolClient,
  events: readonly Delivery[],
  consumersByType: ConsumersByType,
): Promise<Map<string, unknown>> {
  const failed = new Map<string, unknown>();
  const types = new Set(events.map((event) => event.type));
  for (const type of types) {
    const ofType = events.filter((event) => event.type === type);
    for (const consumer of consumersByType[type] ?? []) {
      // An event stops at its first failing consumer; the retry resumes there.
      const pending = ofType.filter((event) => !failed.has(event.id) && !event.delivered.includes(consumer.name));
      if (pending.length > 1 && !(await attempt(client, consumer, pending))) continue;
      for (const event of pending) {
        const failure = await attempt(client, consumer, [event]);
        // Something to reject with even when a consumer throws undefined: the event is not done.
        if (failure) failed.set(event.id, failure.error ?? new Error(`consumer ${consumer.name} failed`));
      }
    }
  }
  return failed;
}

/**
 * Records the consumer's delivery of the events and runs it on those not delivered before (a
 * concurrent run of the same job may have done some), behind a savepoint; returns its failure.
 */
async function attempt(
  client: PoolClient,
  consumer: Consumer,
  events: readonly Delivery[],
): Promise<{ error: unknown } | undefined> {
  await client.query("savepoint consumer");
  try {
    const { rows } = await client.query<{ event_id: string }>(
      `insert into app_private.domain_event_deliveries (event_id, consumer)
       select unnest($1::bigint[]), $2
       on conflict do nothing
       returning event_id::text`,
      [events.map((event) => event.id), consumer.name],
    );
    const recorded = new Set(rows.map((row) => row.event_id));
    const fresh = events.filter((event) => recorded.has(event.id));
    if (fresh.length === 1) await consumer.handle(client, fresh[0]!);
    else if (fresh.length > 1) await handleMany(client, consumer, fresh);
    await client.query("release savepoint consumer");
    return undefined;
  } catch (error) {
    await client.query("rollback to savepoint consumer");
    return { error };
  }
}

async function handleMany(client: PoolClient, consumer: Consumer, events: readonly DomainEvent[]): Promise<void> {
  if (consumer.handleMany) return consumer.handleMany(client, events);
  for (const event of events) await consumer.handle(client, event);
}
