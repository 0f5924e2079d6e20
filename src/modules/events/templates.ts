/**
 * The events module's e-mails: a participant's reminder and an event's cancellation. Their words
 * are written once, in SQL (app_private.event_notice), for the instant notification and the e-mail
 * alike; the templates only lay them out.
 */
import { line, str, type EmailTemplate } from "../../platform/email/templates.ts";

export const EVENTS_TEMPLATES: Record<string, EmailTemplate> = {
  event_reminder: (data) => ({ subject: line(data.title), text: `${str(data.content)} See you there!` }),
  event_cancelled: (data) => ({ subject: line(data.title), text: str(data.content) }),
};
