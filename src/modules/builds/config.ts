/**
 * Builds' environment variables: the command a build runs (operator configuration, never tenant
 * input) and how long it may run.
 */
import { z } from "zod";
import { configFragment } from "../../platform/config.ts";
import { integer } from "../../platform/configSchema.ts";

export interface BuildsConfig {
  /** Shell command run for each build; undefined: the built-in executor (records its steps, succeeds). */
  command: string | undefined;
  /** Longest a build's command may run before its process group is killed and the build fails. */
  timeoutSeconds: number;
}

export const buildsConfig = configFragment({
  variables: {
    BUILD_COMMAND: z.string().max(4096).optional(),
    BUILD_TIMEOUT_SECONDS: integer(1, 86_400).default(600),
  },
  build: (env): BuildsConfig => ({
    command: env.BUILD_COMMAND?.trim() ? env.BUILD_COMMAND : undefined,
    timeoutSeconds: env.BUILD_TIMEOUT_SECONDS,
  }),
});
