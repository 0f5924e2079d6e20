/**
 * The plan of a subscription field fed by LISTEN/NOTIFY: the topic is derived from the verified
 * caller (the context's tenantId or userId), never from arguments, so a client can only listen
 * to its own tenant's or its own topics. Each NOTIFY payload is parsed as JSON and handed to the
 * payload type's plans, which read rows back under row-level security.
 */
import { jsonParse } from "postgraphile/@dataplan/json";
import { context, lambda, listen, type JSONValue } from "postgraphile/grafast";
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

/** A table's resource in the PostGraphile registry; a missing one fails the schema build. */
export function pgResource<Build extends { input: { pgRegistry: { pgResources: Record<string, unknown> } } }>(
  build: Build,
  name: keyof Build["input"]["pgRegistry"]["pgResources"] & string,
): NonNullable<Build["input"]["pgRegistry"]["pgResources"][typeof name]> {
  const resource = build.input.pgRegistry.pgResources[name];
  if (!resource) throw new Error(`app_public.${name} is missing from the PostGraphile registry`);
  return resource as NonNullable<Build["input"]["pgRegistry"]["pgResources"][typeof name]>;
}
