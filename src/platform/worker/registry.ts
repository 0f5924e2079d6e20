/**
 * The one place that says what the worker does: task identifiers, domain-event consumers and the
 * crontab. Modules add their entries here.
 */
import { parseCrontab, type Task } from "graphile-worker";
import type { MailConfig } from "../config.ts";
import type { Logger } from "../logger.ts";
import { setUpTenantDefaults } from "../../modules/tenancy/consumers.ts";
import { setUpTenantIdentity } from "../../modules/identity/consumers.ts";
import type { Consumer } from "./consumers.ts";
import { makeDomainEventTask } from "./domainEvent.ts";
import { eventCancelled, eventReminder } from "../../modules/events/tasks.ts";
import { heartbeat } from "./heartbeat.ts";
import { cleanupExpired, scrubUser } from "../../modules/identity/tasks.ts";
import { makeSendEmailTask, type MailTransport } from "../email/sendEmail.ts";

/** Domain event type → the consumers that handle it, in order. */
export const consumersByType: Readonly<Record<string, readonly Consumer[]>> = {
  tenant_created: [setUpTenantIdentity, setUpTenantDefaults],
};

export interface WorkerDependencies {
  mail: MailConfig;
  logger: Logger;
  /** The worker's pooled SMTP transport; without it each send_email job opens its own. */
  transport?: MailTransport;
}

export const TASK_NAMES = ["domain_event", "worker_heartbeat", "send_email", "scrub_user", "cleanup_expired", "event_reminder", "event_cancelled"] as const;

/**
 * Tasks that wait on the SMTP server. They run in a runner of their own with its own small
 * concurrency (src/platform/worker/runner.ts), so a slow or silent server never holds the slots of the
 * other tasks: reminders, domain events and cron keep running.
 */
export const MAIL_TASK_NAMES = ["send_email"] as const satisfies ReadonlyArray<(typeof TASK_NAMES)[number]>;

export function makeTaskList({ mail, logger, transport }: WorkerDependencies): Record<(typeof TASK_NAMES)[number], Task> {
  return {
    domain_event: makeDomainEventTask(consumersByType),
    worker_heartbeat: heartbeat,
    send_email: makeSendEmailTask(mail, logger, transport),
    scrub_user: scrubUser,
    cleanup_expired: cleanupExpired,
    event_reminder: eventReminder,
    event_cancelled: eventCancelled,
  };
}

/**
 * graphile-worker crontab, UTC: `min hour dom month dow task ?opts {payload}`. Every line has an
 * explicit `id`, so renaming a task keeps its schedule history.
 */
export const crontab = parseCrontab(`
* * * * * worker_heartbeat ?id=worker_heartbeat&max=1
17 3 * * * cleanup_expired ?id=cleanup_expired&max=3
`);
