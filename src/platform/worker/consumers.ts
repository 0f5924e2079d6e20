/** A consumer reacts to one type of domain event; it runs inside the delivery's transaction. */
import type { PoolClient } from "pg";

export interface DomainEvent {
  id: string;
  type: string;
  tenant_id: string | null;
  aggregate_type: string;
  aggregate_id: string;
  payload: Record<string, unknown>;
  request_id: string | null;
  occurred_at: Date;
}

export interface Consumer {
  /** Stable name: recorded per delivered event, so renaming a consumer redelivers history. */
  name: string;
  handle(client: PoolClient, event: DomainEvent): Promise<void>;
  /**
   * The same for several events of its type at once (a batch job's), in one go: set-based SQL
   * instead of a statement per event. Optional; without it the events are handled one by one. If it
   * fails, the batch is rolled back and each event is handled alone, so only the failing ones fail.
   */
  handleMany?(client: PoolClient, events: readonly DomainEvent[]): Promise<void>;
}
