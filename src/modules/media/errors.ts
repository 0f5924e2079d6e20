/**
 * The media module's error codes, added to the one error table by the manifest.
 * The SQLSTATE is how app_private.record_image raises it.
 */
import type { ErrorSpec } from "../../platform/errors.ts";

export const MEDIA_ERRORS = {
  STORAGE_QUOTA_EXCEEDED: {
    sqlstate: "TQUOT",
    status: 413,
    message: "The tenant's images would exceed its storage quota (MEDIA_TENANT_QUOTA_BYTES).",
  },
} as const satisfies Record<string, ErrorSpec>;

declare module "../../platform/errors.ts" {
  interface ModuleErrorCodes extends Record<keyof typeof MEDIA_ERRORS, true> {}
}
