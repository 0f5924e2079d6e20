/**
 * Notifications: a user's instant notifications (rows other modules create in SQL), read and
 * acknowledged through the generated GraphQL API, and delivered live by `notificationAdded`.
 */
import type { ModuleManifest } from "../../platform/modules.ts";
import { NotificationsSubscriptionPlugin } from "./subscription.ts";

export const notifications: ModuleManifest = {
  name: "notifications",
  graphqlPlugins: [NotificationsSubscriptionPlugin],
};
