/**
 * `notificationAdded`: the signed-in user's new instant notifications, live. The trigger on
 * app_public.instant_notifications NOTIFYs `user:<id>:notifications`; the topic comes from the
 * verified token and the row is read back under RLS (recipient only).
 */
import { extendSchema, gql } from "postgraphile/utils";
import { AppError } from "../../platform/errors.ts";
import { topicSubscription } from "../../platform/graphql/subscriptions.ts";

type NotificationEvent = { id: string };

export function notificationsTopic(userId: string | null): string {
  if (!userId) throw new AppError("UNAUTHENTICATED", "Sign in to receive notifications.");
  return `user:${userId}:notifications`;
}

export const NotificationsSubscriptionPlugin = extendSchema((build) => {
  const notifications = build.input.pgRegistry.pgResources.instant_notifications;
  if (!notifications) throw new Error("app_public.instant_notifications is missing from the registry");
  return {
    typeDefs: gql`
      type NotificationAddedPayload {
        notification: InstantNotification
      }
      extend type Subscription {
        "Your new instant notifications, as they are created. Requires a signed-in user."
        notificationAdded: NotificationAddedPayload
      }
    `,
    objects: {
      Subscription: {
        plans: {
          notificationAdded: topicSubscription<NotificationEvent>("userId", notificationsTopic),
        },
      },
      NotificationAddedPayload: {
        plans: {
          notification($event) {
            return notifications.get({ id: $event.get("id") });
          },
        },
      },
    },
  };
});
