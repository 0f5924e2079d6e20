/**
 * `notificationAdded`: the signed-in user's new instant notifications, live. The trigger on
 * app_public.instant_notifications NOTIFYs `user:<id>:notifications` with the row; the topic comes
 * from the verified token, and the answer is built from the message under the rules of a read
 * under RLS (notificationStep.ts), so a burst to many subscribers costs no query per subscriber.
 */
import { extendSchema, gql } from "postgraphile/utils";
import { callerTopic, topicSubscription } from "../../platform/graphql/subscriptions.ts";
import { type NotificationEvent, NotificationFromEventStep } from "./notificationStep.ts";

/** The NOTIFY channel of a user's notifications; must match tg_instant_notifications__notify(). */
const notificationsTopic = callerTopic("userId", "notifications", "Sign in to receive notifications.");

export const NotificationsSubscriptionPlugin = extendSchema(() => ({
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
          return new NotificationFromEventStep($event);
        },
      },
    },
  },
}));
