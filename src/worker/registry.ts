/**
 * The one place that says what the worker does: task identifiers, domain-event consumers and the
 * crontab. Modules add their entries here.
 */
import { parseCrontab, type TaskList } from "graphile-worker";
import { setUpTenantDefaults } from "./consumers/tenantDefaults.ts";
import type { Consumer } from "./consumers/types.ts";
import { makeDomainEventTask } from "./tasks/domainEvent.ts";
import { heartbeat } from "./tasks/heartbeat.ts";

/** Domain event type → the consumers that handle it, in order. */
export const consumersByType: Readonly<Record<string, readonly Consumer[]>> = {
  tenant_created: [setUpTenantDefaults],
};

export const taskList: TaskList = {
  domain_event: makeDomainEventTask(consumersByType),
  worker_heartbeat: heartbeat,
};

/**
 * graphile-worker crontab, UTC: `min hour dom month dow task ?opts {payload}`. Every line has an
 * explicit `id`, so renaming a task keeps its schedule history.
 */
export const crontab = parseCrontab(`
* * * * * worker_heartbeat ?id=worker_heartbeat&max=1
`);
