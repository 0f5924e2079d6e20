import { TYPES } from "postgraphile/@dataplan/pg";
import { get, type Step } from "postgraphile/grafast";
import { sql } from "postgraphile/pg-sql2";
import { extendSchema, gql } from "postgraphile/utils";
import { callerTopic, pgResource, rowEvents } from "../../platform/graphql/subscriptions.ts";

type BuildEvent = { id: string; status: string; fromLine: number; toLine: number };

/** The NOTIFY channel of a tenant's builds; must match app_private.tg_builds__notify(). */
const buildsTopic = callerTopic("tenantId", "builds", "Sign in to follow a build.");

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
              return rowEvents<BuildEvent>(buildsTopic, fieldArgs.getRaw("id"), "app_public.builds");
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
