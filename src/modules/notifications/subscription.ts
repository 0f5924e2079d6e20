/**
 * `notificationAdded`: the signed-in user's new instant notifications, live. The trigger on
 * app_public.instant_notifications NOTIFYs `user:<id>:notifications`; the topic comes from the
 * verified token and the row is read back under RLS (recipient only).
 */
import { extendSchema, gql } from "postgraphile/utils";
import { callerTopic, pgResource, topicSubscription } from "../../platform/graphql/subscriptions.ts";

type NotificationEvent = { id: string };

/** The NOTIFY channel of a user's notifications; must match tg_instant_notifications__notify(). */
const notificationsTopic = callerTopic("userId", "notifications", "Sign in to receive notifications.");

export const NotificationsSubscriptionPlugin = extendSchema((build) => {
  const notifications = pgResource(build, "instant_notifications");
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
