/**
 * Builds: a tenant's builds of its configuration and the releases made from them. Holders of
 * builds.manage request a build (requestBuild: a build_requested event and a run_build job in the
 * same transaction), follow it live (buildUpdated: status and new log lines), cancel it, make a
 * succeeded build the active release (activateRelease) and go back (rollbackRelease). The worker
 * runs the build with an executor: the built-in one, or BUILD_COMMAND (docs/builds.md).
 */
import type { ModuleManifest } from "../../platform/modules.ts";
import { buildsConfig } from "./config.ts";
import { BuildsPlugin } from "./graphql.ts";
import { runBuild } from "./tasks.ts";

export const builds: ModuleManifest = {
  name: "builds",
  config: buildsConfig,
  graphqlPlugins: [BuildsPlugin],
  // Each build can hold a worker slot for minutes: one request asks for one build at most.
  expensiveMutations: ["requestBuild"],
  tasks: {
    run_build: runBuild,
  },
};
