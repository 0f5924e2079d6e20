/**
 * The payments module's error codes, added to the one error table by the manifest. The SQLSTATE is
 * how its SQL raises them (app_private.settle_payment).
 */
import type { ErrorSpec } from "../../platform/errors.ts";

export const PAYMENTS_ERRORS = {
  PAYMENT_AMOUNT_MISMATCH: {
    sqlstate: "TPAMT",
    status: 409,
    message: "The amount or currency does not match the payment's.",
  },
  PAYMENT_PROVIDER_UNAVAILABLE: {
    status: 502,
    message: "The payment provider could not be reached; try again later.",
  },
  PAYMENT_PROVIDER_REFUSED: {
    status: 422,
    message: "The payment provider refused this payment (its amount or currency); trying again will not help.",
  },
} as const satisfies Record<string, ErrorSpec>;

declare module "../../platform/errors.ts" {
  interface ModuleErrorCodes extends Record<keyof typeof PAYMENTS_ERRORS, true> {}
}
