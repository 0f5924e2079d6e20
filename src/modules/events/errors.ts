/**
 * The events module's error codes, added to the one error table by the manifest.
 * Each is raised by the module's SQL with its SQLSTATE, written first.
 */
import type { ErrorSpec } from "../../platform/errors.ts";

export const EVENTS_ERRORS = {
  EVENT_FULL: { sqlstate: "TEFUL", status: 409, message: "The event is full." },
} as const satisfies Record<string, ErrorSpec>;

declare module "../../platform/errors.ts" {
  interface ModuleErrorCodes extends Record<keyof typeof EVENTS_ERRORS, true> {}
}
