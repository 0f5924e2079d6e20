/**
 * Identity's error codes, added to the one error table by the manifest.
 * Each is raised by the module's SQL with its SQLSTATE, written first.
 */
import type { ErrorSpec } from "../../platform/errors.ts";

export const IDENTITY_ERRORS = {
  WEAK_PASSWORD: { sqlstate: "TWEAK", status: 400, message: "The password does not meet the password policy." },
  INVALID_CREDENTIALS: { sqlstate: "TCRED", status: 401, message: "Invalid credentials." },
  INVALID_TWO_FACTOR_CODE: { sqlstate: "T2FAC", status: 401, message: "The two-factor code is not valid." },
  INVALID_TOKEN: { sqlstate: "TTOKN", status: 401, message: "The token is not valid." },
  TOKEN_REUSED: {
    sqlstate: "TREUS",
    status: 401,
    message: "The refresh token was already used; the session is revoked.",
  },
} as const satisfies Record<string, ErrorSpec>;

declare module "../../platform/errors.ts" {
  interface ModuleErrorCodes extends Record<keyof typeof IDENTITY_ERRORS, true> {}
}
