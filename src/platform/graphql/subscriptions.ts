/**
 * The plan of a subscription field fed by LISTEN/NOTIFY: the topic is derived from the verified
 * caller (the context's tenantId or userId), never from arguments, so a client can only listen
 * to its own tenant's or its own topics. Each NOTIFY payload is parsed as JSON and handed to the
 * payload type's plans, which read rows back under row-level security.
 */
import { jsonParse } from "postgraphile/@dataplan/json";
import { context, lambda, listen, type JSONValue } from "postgraphile/grafast";

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
