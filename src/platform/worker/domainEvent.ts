/**
 * Delivers one domain event to every consumer registered for its type. Each consumer's effect and
 * its delivery record commit together, so a retried job skips consumers that already succeeded.
 */
import type { Task } from "graphile-worker";
import { inTransaction } from "../db/pools.ts";
import type { Consumer, DomainEvent } from "./consumers.ts";

export function makeDomainEventTask(consumersByType: Readonly<Record<string, readonly Consumer[]>>): Task {
  return async (payload, helpers) => {
    const id = (payload as { id?: unknown } | null)?.id;
    if (typeof id !== "number" && typeof id !== "string") throw new Error("domain_event payload needs an id");
    const event = await helpers.withPgClient(async (client) => {
      const { rows } = await client.query<DomainEvent>("select * from app_private.domain_events where id = $1", [id]);
      return rows[0];
    });
    if (!event) {
      helpers.logger.warn(`domain event ${id} does not exist; nothing to deliver`);
      return;
    }
    for (const consumer of consumersByType[event.type] ?? []) {
      await helpers.withPgClient((client) =>
        inTransaction(client, async () => {
          const { rowCount } = await client.query(
            `insert into app_private.domain_event_deliveries (event_id, consumer) values ($1, $2)
             on conflict do nothing`,
            [event.id, consumer.name],
          );
          if (rowCount) await consumer.handle(client, event);
        }),
      );
    }
  };
}
