/**
 * Delivers one domain event to every consumer registered for its type, in one transaction: each
 * consumer's effect and its delivery record sit behind a savepoint of their own, so a consumer that
 * fails rolls back alone, the ones before it still commit, and a retried job skips them.
 * The transaction commits without waiting for its WAL flush (synchronous_commit off): the job's
 * completion, written after it, waits for its own flush, which covers this commit too. A crash
 * before that loses at most this delivery, and the job, not completed, delivers it again.
 */
import type { Task } from "graphile-worker";
import type { PoolClient } from "pg";
import type { Consumer, DomainEvent } from "./consumers.ts";

type Delivery = DomainEvent & { delivered: string[] };

export function makeDomainEventTask(consumersByType: Readonly<Record<string, readonly Consumer[]>>): Task {
  return async (payload, helpers) => {
    const id = (payload as { id?: unknown } | null)?.id;
    if (typeof id !== "number" && typeof id !== "string") throw new Error("domain_event payload needs an id");
    const failure = await helpers.withPgClient(async (client) => {
      await client.query("begin; set local synchronous_commit = off");
      try {
        const event = await readEvent(client, id);
        if (!event) helpers.logger.warn(`domain event ${id} does not exist; nothing to deliver`);
        const failed = event ? await deliver(client, event, consumersByType[event.type] ?? []) : undefined;
        await client.query("commit");
        return failed;
      } catch (error) {
        await client.query("rollback");
        throw error;
      }
    });
    if (failure) throw failure.error;
  };
}

async function readEvent(client: PoolClient, id: number | string): Promise<Delivery | undefined> {
  const { rows } = await client.query<Delivery>(
    `select e.*, array(select d.consumer from app_private.domain_event_deliveries d where d.event_id = e.id)
       as delivered
     from app_private.domain_events e where e.id = $1`,
    [id],
  );
  return rows[0];
}

/** Runs the consumers not yet delivered, in order, until one fails; returns that failure. */
async function deliver(
  client: PoolClient,
  event: Delivery,
  consumers: readonly Consumer[],
): Promise<{ error: unknown } | undefined> {
  for (const consumer of consumers) {
    if (event.delivered.includes(consumer.name)) continue;
    await client.query("savepoint consumer");
    try {
      const { rowCount } = await client.query(
        `insert into app_private.domain_event_deliveries (event_id, consumer) values ($1, $2)
         on conflict do nothing`,
        [event.id, consumer.name],
      );
      if (rowCount) await consumer.handle(client, event);
      await client.query("release savepoint consumer");
    } catch (error) {
      await client.query("rollback to savepoint consumer");
      return { error };
    }
  }
  return undefined;
}
