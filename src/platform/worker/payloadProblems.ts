import type { z } from "zod";

/**
 * A schema's issues with a job's payload, one "path: message" line each; `within` names the part
 * of the payload the schema read (its lines then start with it), "payload" is the whole.
 */
export function problemsOf(error: z.ZodError, within?: string): string[] {
  return error.issues.map(
    (issue) => `${[...(within ? [within] : []), ...issue.path].join(".") || "payload"}: ${issue.message}`,
  );
}
