/**
 * Identity's error codes, added to the one error table by the manifest.
 * The SQLSTATE comes first: it is how the module's SQL raises a code (INVALID_CREDENTIALS is raised
 * there today; the others are thrown by its TypeScript and keep a SQLSTATE for the SQL to come).
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
