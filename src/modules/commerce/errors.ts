/**
 * The commerce module's error codes, added to the one error table by the manifest. The SQLSTATE
 * is how its SQL raises them (app_private.pay_order, the ledger's trigger, bot_create_order).
 */
import type { ErrorSpec } from "../../platform/errors.ts";

export const COMMERCE_ERRORS = {
  OUT_OF_STOCK: { sqlstate: "TSTCK", status: 409, message: "Not enough stock left for this order." },
  INSUFFICIENT_BALANCE: {
    sqlstate: "TBALN",
    status: 409,
    message: "The customer's balance is too low for this payment.",
  },
} as const satisfies Record<string, ErrorSpec>;

declare module "../../platform/errors.ts" {
  interface ModuleErrorCodes extends Record<keyof typeof COMMERCE_ERRORS, true> {}
}
