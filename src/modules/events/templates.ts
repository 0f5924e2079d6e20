/** The events module's e-mails: a participant's reminder and an event's cancellation. */
import { str, type EmailTemplate } from "../../platform/email/templates.ts";

export const EVENTS_TEMPLATES: Record<string, EmailTemplate> = {
  event_reminder: (data) => ({
    subject: `Reminder: ${str(data.name)}`,
    text: `${str(data.name)} starts at ${str(data.startsAt)}${data.location ? ` at ${str(data.location)}` : ""}. See you there!`,
  }),
  event_cancelled: (data) => ({
    subject: `Cancelled: ${str(data.name)}`,
    text: `${str(data.name)} has been cancelled${data.reason ? `: ${str(data.reason)}` : "."}`,
  }),
};
