/**
 * Notifications: a user's instant notifications (rows other modules create in SQL), read and
 * acknowledged through the generated GraphQL API, and delivered live by `notificationAdded`.
 */
import { makeLiveSessions } from "../../platform/auth/sessionCheck.ts";
import type { ModuleManifest } from "../../platform/modules.ts";
import { batchedSessionCheck } from "./liveSessions.ts";
import { NotificationStepAssertionPlugin } from "./notificationStep.ts";
import { NotificationsSubscriptionPlugin } from "./subscription.ts";

export const notifications: ModuleManifest = {
  name: "notifications",
  graphqlPlugins: [NotificationsSubscriptionPlugin, NotificationStepAssertionPlugin],
  server({ requestPool }) {
    return { graphqlContext: { notificationSessionIsLive: batchedSessionCheck(makeLiveSessions(requestPool)) } };
  },
};
