/**
 * The events module's e-mails: a participant's reminder and an event's cancellation. Their words
 * are written once, in SQL (app_private.event_notice), for the instant notification and the e-mail
 * alike; the templates only lay them out.
 */
import { type EmailTemplate, emailTemplate, line, TEXT } from "../../platform/email/templates.ts";

const notice = { title: TEXT, content: TEXT };

export const EVENTS_TEMPLATES: Record<string, EmailTemplate> = {
  event_reminder: emailTemplate(notice, (data) => ({
    subject: line(data.title),
    text: `${data.content} See you there!`,
  })),
  event_cancelled: emailTemplate(notice, (data) => ({ subject: line(data.title), text: data.content })),
};
