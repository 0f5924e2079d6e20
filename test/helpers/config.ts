/** The problems loadConfig reports for an environment ([] when it loads). */
import { loadConfig } from "../../src/modules/index.ts";
import { ConfigError } from "../../src/platform/config.ts";

export function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}
