/**
 * Events: meetups with a capacity that holds under concurrency, participants, reminders before the
 * start and cancellation notices (e-mail and instant notification), all in SQL behind the
 * generated GraphQL API; the worker runs the reminder and cancellation jobs the triggers enqueue.
 */
import type { ModuleManifest } from "../../platform/modules.ts";
import { eventsConfig } from "./config.ts";
import { EVENTS_ERRORS } from "./errors.ts";
import { seedDemoEvents } from "./seed.ts";
import { eventCancelled, eventReminder } from "./tasks.ts";
import { EVENTS_TEMPLATES } from "./templates.ts";

export const events: ModuleManifest = {
  name: "events",
  config: eventsConfig,
  errors: EVENTS_ERRORS,
  tasks: { event_reminder: eventReminder, event_cancelled: eventCancelled },
  emailTemplates: EVENTS_TEMPLATES,
  seed: seedDemoEvents,
  runtimeSettings: (config) => ({ event_reminder_lead_minutes: eventsConfig.of(config).reminderLeadMinutes }),
};
