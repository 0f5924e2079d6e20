/**
 * Broadcasts' GraphQL beyond the generated CRUD (createBroadcast, the broadcasts lists):
 *
 * - `setBotToken(input: {botId, token})`: the token is sealed here (the key is the server's) and
 *   stored by app_hidden.set_bot_token in the request's own transaction and role, which checks
 *   bots.manage and that the bot is the caller's tenant's. Nothing ever reads it back.
 * - `broadcastUpdated(id)`: each change of a broadcast's status and counts, live. The topic is the
 *   caller's tenant's (tenant:<id>:broadcasts, from the verified token), filtered to the broadcast
 *   asked for; the row is read back under RLS, so only holders of broadcasts.manage see it.
 */
import { jsonParse } from "postgraphile/@dataplan/json";
import { sideEffectWithPgClientTransaction } from "postgraphile/@dataplan/pg";
import { context, get, type GrafastSubscriber, lambda, listen, type Step } from "postgraphile/grafast";
import { extendSchema, gql } from "postgraphile/utils";
import type { SecretBox } from "../../platform/auth/secrets.ts";
import { AppError } from "../../platform/errors.ts";
import { callerTopic, pgResource } from "../../platform/graphql/subscriptions.ts";
import { checkBotToken } from "./botTokens.ts";

declare global {
  namespace Grafast {
    interface Context {
      /** Seals bot tokens (broadcasts' graphqlContext). */
      botTokenBox: SecretBox;
    }
  }
}

type BroadcastEvent = { id: string; status: string };

/** The NOTIFY channel of a tenant's broadcasts; must match app_private.notify_broadcast(). */
const broadcastsTopic = callerTopic("tenantId", "broadcasts", "Sign in to follow a broadcast.");

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The tenant's topic, narrowed to one broadcast's events (the payload is JSON with its id). */
function onlyBroadcast(subscriber: GrafastSubscriber, id: string): GrafastSubscriber {
  return {
    async subscribe(topic) {
      const source = await subscriber.subscribe(topic);
      const matches = (payload: unknown) => {
        try {
          return (JSON.parse(String(payload)) as { id?: unknown }).id === id;
        } catch {
          return false;
        }
      };
      const iterator: AsyncIterableIterator<unknown> = {
        async next() {
          for (;;) {
            const result = await source.next();
            if (result.done || matches(result.value)) return result;
          }
        },
        // Straight to the source, so ending the subscription releases the LISTEN at once.
        async return(value?: unknown) {
          await source.return?.();
          return { done: true, value };
        },
        async throw(error?: unknown) {
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

export const BroadcastsPlugin = extendSchema((build) => {
  const bots = pgResource(build, "bots");
  const broadcasts = pgResource(build, "broadcasts");
  const executor = bots.executor;
  return {
    typeDefs: gql`
      input SetBotTokenInput {
        "The store's bot (rowId)."
        botId: UUID!
        "The bot's token from BotFather. Stored encrypted; never shown again."
        token: String!
      }
      type SetBotTokenPayload {
        bot: Bot
      }
      extend type Mutation {
        "Sets a store bot's Telegram token (needs bots.manage). Broadcasts are sent with it."
        setBotToken(input: SetBotTokenInput!): SetBotTokenPayload
      }

      type BroadcastUpdatedPayload {
        "The broadcast as it is now (its status and counts), read back under row-level security."
        broadcast: Broadcast
      }
      extend type Subscription {
        """
        Each change of a broadcast's status and counts (counts at most once a second while it sends,
        and at the end of each batch). Requires broadcasts.manage in the broadcast's tenant.
        """
        broadcastUpdated(id: UUID!): BroadcastUpdatedPayload
      }
    `,
    objects: {
      Mutation: {
        plans: {
          setBotToken(_$root, fieldArgs) {
            const $input = fieldArgs.getRaw("input") as Step<{ botId: string; token: unknown }>;
            return sideEffectWithPgClientTransaction(
              executor,
              [$input, context().get("botTokenBox")],
              async (client, [input, box]) => {
                const sealed = box.seal(checkBotToken(input.token));
                const { rows } = await client.query<{ id: string }>({
                  text: "select app_hidden.set_bot_token($1, $2) as id",
                  values: [input.botId, sealed],
                });
                return { botId: rows[0]!.id };
              },
            );
          },
        },
      },
      SetBotTokenPayload: {
        plans: {
          bot($result: Step<{ botId: string }>) {
            return bots.get({ id: get($result, "botId") });
          },
        },
      },
      Subscription: {
        plans: {
          broadcastUpdated: {
            subscribePlan(_$root, fieldArgs) {
              const $topic = lambda(context().get("tenantId"), broadcastsTopic);
              const $subscriber = lambda(
                [context().get("pgSubscriber"), fieldArgs.getRaw("id") as Step<string>],
                ([subscriber, id]) => {
                  if (typeof id !== "string" || !UUID.test(id)) throw new AppError("VALIDATION_FAILED", "Bad id.");
                  return onlyBroadcast(subscriber as GrafastSubscriber, id.toLowerCase());
                },
              );
              return listen($subscriber, $topic, jsonParse<BroadcastEvent>);
            },
            plan<S>($event: S): S {
              return $event;
            },
          },
        },
      },
      BroadcastUpdatedPayload: {
        plans: {
          broadcast($event: Step<BroadcastEvent>) {
            return broadcasts.get({ id: get($event, "id") });
          },
        },
      },
    },
  };
});
