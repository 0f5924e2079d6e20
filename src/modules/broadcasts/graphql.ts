import { sideEffectWithPgClientTransaction } from "postgraphile/@dataplan/pg";
import { context, get, type Step } from "postgraphile/grafast";
import { extendSchema, gql } from "postgraphile/utils";
import type { SecretBox } from "../../platform/auth/secrets.ts";
import { callerTopic, pgResource, rowEvents } from "../../platform/graphql/subscriptions.ts";
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
                let sealed: string | null = null;
                let malformed: unknown;
                try {
                  sealed = box.seal(checkBotToken(input.token));
                } catch (refusal) {
                  malformed = refusal;
                }
                // The function checks the caller's rights and the bot before the token: a malformed one
                // goes as null, and its own refusal answers in place of the function's (TVALD).
                const { rows } = await client
                  .query<{ id: string }>({
                    text: "select app_hidden.set_bot_token($1, $2) as id",
                    values: [input.botId, sealed],
                  })
                  .catch((error: { code?: unknown }) => {
                    throw malformed !== undefined && error.code === "TVALD" ? malformed : error;
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
              return rowEvents<BroadcastEvent>(broadcastsTopic, fieldArgs.getRaw("id"), "app_public.broadcasts");
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
