/**
 * The plan of a subscription field fed by LISTEN/NOTIFY: the topic is derived from the verified
 * caller (the context's tenantId or userId), never from arguments, so a client can only listen
 * to its own tenant's or its own topics. Each NOTIFY payload is parsed as JSON and handed to the
 * payload type's plans, which read rows back under row-level security.
 */
import { jsonParse } from "postgraphile/@dataplan/json";
import { context, type GrafastSubscriber, type JSONValue, lambda, listen, type Step } from "postgraphile/grafast";
import { AppError } from "../errors.ts";

/**
 * A topic per tenant or per user: `<prefix>:<id>:<suffix>`, e.g. `tenant:<id>:modules`. It must
 * match the channel the table's NOTIFY trigger uses. An anonymous caller is UNAUTHENTICATED.
 */
export function callerTopic(callerKey: "tenantId" | "userId", suffix: string, refusal: string) {
  const prefix = callerKey === "tenantId" ? "tenant" : "user";
  return (callerId: string | null): string => {
    if (!callerId) throw new AppError("UNAUTHENTICATED", refusal);
    return `${prefix}:${callerId}:${suffix}`;
  };
}

export function topicSubscription<Event extends JSONValue>(
  callerKey: "tenantId" | "userId",
  topicOf: (callerId: string | null) => string,
) {
  return {
    subscribePlan() {
      const $topic = lambda(context().get(callerKey), topicOf);
      return listen(context().get("pgSubscriber"), $topic, jsonParse<Event>);
    },
    plan<Step>($event: Step): Step {
      return $event;
    },
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The subscribe plan of a field that follows one row (`broadcastUpdated(id)`, `buildUpdated(id)`):
 * the caller's tenant topic, narrowed to the events whose JSON payload has this `id` and to the
 * moments the caller may read that row of `table` (checked under RLS as each event arrives, so a
 * caller without the permission gets no update at all: not even when the row changed). The row
 * is then read back under RLS by the payload's plans.
 */
export function rowEvents<Event extends JSONValue>(
  topicOf: (tenantId: string | null) => string,
  $id: Step,
  table: `app_public.${string}`,
) {
  const $topic = lambda(context().get("tenantId"), topicOf);
  const $subscriber = lambda(
    [context().get("pgSubscriber"), $id, context().get("withPgClient"), context().get("pgSettings")],
    ([subscriber, id, withPgClient, pgSettings]) => {
      if (typeof id !== "string" || !UUID.test(id)) throw new AppError("VALIDATION_FAILED", "Bad id.");
      const rowId = id.toLowerCase();
      const readable = async () => {
        const { rows } = await withPgClient(pgSettings, (client) =>
          client.query({ text: `select 1 from ${table} where id = $1`, values: [rowId] }),
        );
        return rows.length > 0;
      };
      return onlyRow(subscriber as GrafastSubscriber, rowId, readable);
    },
  );
  return listen($subscriber, $topic, jsonParse<Event>);
}

/**
 * A subscriber that passes on only the events of one row (the payload is JSON with its id), and
 * only while `readable` says the caller may read it.
 */
function onlyRow(subscriber: GrafastSubscriber, id: string, readable: () => Promise<boolean>): GrafastSubscriber {
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
            if (result.done || (matches(result.value) && (await readable()))) return result;
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

/** A table's resource in the PostGraphile registry; a missing one fails the schema build. */
export function pgResource<Build extends { input: { pgRegistry: { pgResources: Record<string, unknown> } } }>(
  build: Build,
  name: keyof Build["input"]["pgRegistry"]["pgResources"] & string,
): NonNullable<Build["input"]["pgRegistry"]["pgResources"][typeof name]> {
  const resource = build.input.pgRegistry.pgResources[name];
  if (!resource) throw new Error(`app_public.${name} is missing from the PostGraphile registry`);
  return resource as NonNullable<Build["input"]["pgRegistry"]["pgResources"][typeof name]>;
}
