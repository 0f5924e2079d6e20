/**
 * `chatMessageAdded(chatId)`: each message sent, edited or deleted in a chat, live, for its members.
 *
 * The topic is the caller's tenant's (tenant:<id>:chats, from the verified token), filtered to the
 * chat asked for. Membership is checked when the subscription starts (a non-member is refused:
 * NOT_FOUND, as for a chat that does not exist) and again for every event, by reading the chat back
 * under RLS as the subscriber: a member who was removed gets nothing more and the stream completes
 * at once (the removal itself is NOTIFYed on the topic, so it ends without waiting for a message;
 * so is messaging switched off, which hides every chat).
 * The message is read back under RLS too.
 */
import { jsonParse } from "postgraphile/@dataplan/json";
import type { WithPgClient } from "postgraphile/@dataplan/pg";
import { context, get, type GrafastSubscriber, lambda, listen, type Step } from "postgraphile/grafast";
import { extendSchema, gql } from "postgraphile/utils";
import { AppError } from "../../platform/errors.ts";
import { callerTopic, pgResource } from "../../platform/graphql/subscriptions.ts";

/**
 * A NOTIFY payload of tenant:<id>:chats (app_private.notify_chat_message, tg_chat_members__notify,
 * and tg_tenant_modules__messaging_off: no chatId, every chat of the tenant).
 */
type ChatEvent = { chatId?: string; messageId?: string; userId?: string; op: string };

/** The NOTIFY channel of a tenant's chats; must match app_private.notify_chat_message(). */
const chatsTopic = callerTopic("tenantId", "chats", "Sign in to follow a chat.");

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when the subscriber still sees the chat (RLS: members only). */
type MembershipCheck = () => Promise<boolean>;

function parseEvent(payload: unknown): ChatEvent | undefined {
  try {
    const event = JSON.parse(String(payload)) as Partial<ChatEvent>;
    const chatOk = event.chatId === undefined || typeof event.chatId === "string";
    return chatOk && typeof event.op === "string" ? (event as ChatEvent) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The tenant's topic, narrowed to one chat's message events while the subscriber is a member: the
 * membership is checked at the start and before each event; once it fails, the stream completes.
 */
export function onlyChatMembers(
  subscriber: GrafastSubscriber,
  chatId: string,
  isMember: MembershipCheck,
): GrafastSubscriber {
  return {
    async subscribe(topic) {
      // LISTEN first, then check: a removal between the two is seen by the first event's check.
      const source = await subscriber.subscribe(topic);
      if (!(await isMember())) {
        await source.return?.();
        throw new AppError("NOT_FOUND", "No such chat");
      }
      let ended = false;
      const end = async (value?: unknown) => {
        ended = true;
        await source.return?.();
        return { done: true as const, value };
      };
      const iterator: AsyncIterableIterator<unknown> = {
        async next() {
          for (;;) {
            if (ended) return { done: true, value: undefined };
            const result = await source.next();
            if (result.done) return result;
            const event = parseEvent(result.value);
            if (!event || (event.chatId !== undefined && event.chatId !== chatId)) continue;
            if (!(await isMember())) return end();
            if (event.messageId) return { done: false, value: JSON.stringify(event) };
          }
        },
        // Straight to the source, so ending the subscription releases the LISTEN at once.
        return: end,
        async throw(error?: unknown) {
          ended = true;
          if (source.throw) return source.throw(error);
          throw error;
        },
        [Symbol.asyncIterator]() {
          return iterator;
        },
      };
      return iterator;
    },
  };
}

export const MessagingPlugin = extendSchema((build) => {
  const messages = pgResource(build, "messages");
  return {
    typeDefs: gql`
      type ChatMessageAddedPayload {
        "What happened: created, edited or deleted."
        event: String!
        "The message as it is now, read back under row-level security (a deleted one has no body)."
        message: Message
      }
      extend type Subscription {
        """
        Each message sent, edited or deleted in a chat of yours, as it happens. Only members may
        subscribe (NOT_FOUND otherwise); a member removed from the chat stops receiving at once (the
        stream completes), and so does everyone when messaging is switched off.
        """
        chatMessageAdded(chatId: UUID!): ChatMessageAddedPayload
      }
    `,
    objects: {
      Subscription: {
        plans: {
          chatMessageAdded: {
            subscribePlan(_$root, fieldArgs) {
              const $topic = lambda(context().get("tenantId"), chatsTopic);
              const $subscriber = lambda(
                [
                  context().get("pgSubscriber"),
                  context().get("withPgClient"),
                  context().get("pgSettings"),
                  fieldArgs.getRaw("chatId") as Step<string>,
                ],
                ([subscriber, withPgClient, pgSettings, chatId]) => {
                  if (typeof chatId !== "string" || !UUID.test(chatId)) {
                    throw new AppError("VALIDATION_FAILED", "Bad chatId.");
                  }
                  const id = chatId.toLowerCase();
                  const isMember = () =>
                    (withPgClient as WithPgClient)(pgSettings as Record<string, string>, async (client) => {
                      const { rows } = await client.query({
                        text: "select 1 from app_public.chats c where c.id = $1",
                        values: [id],
                      });
                      return rows.length === 1;
                    });
                  return onlyChatMembers(subscriber as GrafastSubscriber, id, isMember);
                },
              );
              return listen($subscriber, $topic, jsonParse<ChatEvent>);
            },
            plan<S>($event: S): S {
              return $event;
            },
          },
        },
      },
      ChatMessageAddedPayload: {
        plans: {
          event($event: Step<ChatEvent>) {
            return get($event, "op");
          },
          message($event: Step<ChatEvent>) {
            return messages.get({ id: get($event, "messageId") });
          },
        },
      },
    },
  };
});
