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
}
