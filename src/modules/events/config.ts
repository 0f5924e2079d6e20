/** Events' environment variable: how long before an event starts its participants are reminded. */
import { configFragment } from "../../platform/config.ts";
import { integer } from "../../platform/configSchema.ts";

export const eventsConfig = configFragment({
  variables: {
    EVENT_REMINDER_LEAD_MINUTES: integer(0, 60 * 24 * 60).default(1440),
  },
  build: (env) => ({ reminderLeadMinutes: env.EVENT_REMINDER_LEAD_MINUTES }),
});
