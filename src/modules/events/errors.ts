/**
 * The events module's error codes, added to the one error table by the manifest.
 * The SQLSTATE comes first: it is how the module's SQL (join_event) raises it.
 */
import type { ErrorSpec } from "../../platform/errors.ts";

export const EVENTS_ERRORS = {
  EVENT_FULL: { sqlstate: "TEFUL", status: 409, message: "The event is full." },
} as const satisfies Record<string, ErrorSpec>;

declare module "../../platform/errors.ts" {
  interface ModuleErrorCodes extends Record<keyof typeof EVENTS_ERRORS, true> {}
}
