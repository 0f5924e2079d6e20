/** Identity's error codes, added to the one error table by the manifest. */
import type { ErrorSpec } from "../../platform/errors.ts";

export const IDENTITY_ERRORS = {
  WEAK_PASSWORD: { status: 400, message: "The password does not meet the password policy.", sqlstate: "TWEAK" },
  INVALID_CREDENTIALS: { status: 401, message: "Invalid credentials.", sqlstate: "TCRED" },
  INVALID_TWO_FACTOR_CODE: { status: 401, message: "The two-factor code is not valid.", sqlstate: "T2FAC" },
  INVALID_TOKEN: { status: 401, message: "The token is not valid.", sqlstate: "TTOKN" },
  TOKEN_REUSED: {
    status: 401,
    message: "The refresh token was already used; the session is revoked.",
    sqlstate: "TREUS",
  },
} as const satisfies Record<string, ErrorSpec>;

declare module "../../platform/errors.ts" {
  interface ModuleErrorCodes extends Record<keyof typeof IDENTITY_ERRORS, true> {}
}
