/**
 * Builds' GraphQL beyond the generated fields (requestBuild, cancelBuild, activateRelease,
 * rollbackRelease and the lists come from the SQL functions and tables):
 *
 * - `buildUpdated(id)`: each change of a build's status and each batch of new log lines, live. The
 *   topic is the caller's tenant's (tenant:<id>:builds, from the verified token), filtered to the
 *   build asked for; the build and its new lines (the NOTIFY's fromLine < n <= toLine) are read back
 *   under RLS, so only holders of builds.manage see them.
 */
import { jsonParse } from "postgraphile/@dataplan/json";
import { TYPES } from "postgraphile/@dataplan/pg";
import { context, get, type GrafastSubscriber, lambda, listen, type Step } from "postgraphile/grafast";
import { sql } from "postgraphile/pg-sql2";
import { extendSchema, gql } from "postgraphile/utils";
import { AppError } from "../../platform/errors.ts";
import { callerTopic, pgResource } from "../../platform/graphql/subscriptions.ts";

type BuildEvent = { id: string; status: string; fromLine: number; toLine: number };

/** The NOTIFY channel of a tenant's builds; must match app_private.tg_builds__notify(). */
const buildsTopic = callerTopic("tenantId", "builds", "Sign in to follow a build.");

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The tenant's topic, narrowed to one build's events (the payload is JSON with its id). */
function onlyBuild(subscriber: GrafastSubscriber, id: string): GrafastSubscriber {
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

export const BuildsPlugin = extendSchema((build) => {
  const builds = pgResource(build, "builds");
  const logLines = pgResource(build, "build_log_lines");
  return {
    typeDefs: gql`
      type BuildUpdatedPayload {
        "The build as it is now (its status), read back under row-level security."
        build: Build
        "The log lines this change added, in order (empty for a change of status alone)."
        newLogLines: [BuildLogLine!]
      }
      extend type Subscription {
        """
        Each change of a build's status and each batch of its new log lines. Requires builds.manage in
        the build's tenant.
        """
        buildUpdated(id: UUID!): BuildUpdatedPayload
      }
    `,
    objects: {
      Subscription: {
        plans: {
          buildUpdated: {
            subscribePlan(_$root, fieldArgs) {
              const $topic = lambda(context().get("tenantId"), buildsTopic);
              const $subscriber = lambda(
                [context().get("pgSubscriber"), fieldArgs.getRaw("id") as Step<string>],
                ([subscriber, id]) => {
                  if (typeof id !== "string" || !UUID.test(id)) throw new AppError("VALIDATION_FAILED", "Bad id.");
                  return onlyBuild(subscriber as GrafastSubscriber, id.toLowerCase());
                },
              );
              return listen($subscriber, $topic, jsonParse<BuildEvent>);
            },
            plan<S>($event: S): S {
              return $event;
            },
          },
        },
      },
      BuildUpdatedPayload: {
        plans: {
          build($event: Step<BuildEvent>) {
            return builds.get({ id: get($event, "id") });
          },
          newLogLines($event: Step<BuildEvent>) {
            const $lines = logLines.find({ build_id: get($event, "id") });
            const from = $lines.placeholder(get($event, "fromLine"), TYPES.int);
            const to = $lines.placeholder(get($event, "toLine"), TYPES.int);
            $lines.where(sql`${$lines.alias}.line_number > ${from} and ${$lines.alias}.line_number <= ${to}`);
            $lines.orderBy({ attribute: "line_number", direction: "ASC" });
            return $lines;
          },
        },
      },
    },
  };
});
