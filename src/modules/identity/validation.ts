/** Input shapes of the identity operations, shared by GraphQL and REST. */
import { z } from "zod";
import { bodyKeyName, issueFields } from "../../platform/http/listQuery.ts";
import { AppError } from "../../platform/errors.ts";
import { CONTROL_OR_INVISIBLE, MAIL_ADDRESS_MAX, MAIL_ADDRESS_SHAPE } from "../../platform/email/address.ts";

// NFC: "ü" as one code point and as "u" with a combining mark are one address (the database stores
// NFC too), so they share one account and one per-address limit.
const email = z
  .string()
  .trim()
  .toLowerCase()
  .normalize("NFC")
  .max(MAIL_ADDRESS_MAX)
  .regex(MAIL_ADDRESS_SHAPE, "must be an e-mail address")
  .refine((text) => !CONTROL_OR_INVISIBLE.test(text), "must not contain control or invisible characters");
// A new address: no empty label in its domain ("a@b.test." would be a second account beside "a@b.test").
const newEmail = email.regex(/^[^@]+@[^@.]+(\.[^@.]+)+$/, "must be an e-mail address (no empty part in its domain)");
const username = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_.-]{2,64}$/, "2–64 letters, digits, '.', '_' or '-'");
const tenant = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, "must be a tenant slug");
const token = z.string().min(16).max(200);
const code = z.string().trim().min(6).max(20);
const password = z.string().max(1024);

// Strict: a key no operation takes is refused by name (over REST; GraphQL refuses it itself), not
// dropped without a word — a misspelt optional field would otherwise read as left out.
export const schemas = {
  register: z.strictObject({
    tenant,
    email: newEmail,
    username,
    fullName: z
      .string()
      .trim()
      .max(200)
      // Checked here too: the database's own check (users_full_name_one_line) would only meet it at
      // confirmation, after the code was sent.
      .refine((text) => !/[\p{Cc}\u2028\u2029]/u.test(text), "must be one line of text, without control characters")
      .optional()
      .nullable(),
    password,
    captchaToken: z.string().max(4096).optional().nullable(),
  }),
  confirmRegistration: z.strictObject({ registrationToken: token, code }),
  // Lower case as a stored address is (citext folds only ASCII letters); usernames are ASCII.
  login: z.strictObject({ tenant, login: z.string().trim().toLowerCase().normalize("NFC").min(1).max(254), password }),
  verifyTwoFactor: z.strictObject({ twoFactorToken: token, code }),
  refreshSession: z.strictObject({ refreshToken: token }),
  changePassword: z.strictObject({ currentPassword: password, newPassword: password }),
  forgotPassword: z.strictObject({ tenant, email }),
  resetPassword: z.strictObject({ token, newPassword: password }),
  twoFactorCode: z.strictObject({ code }),
};

/** Parses input or throws VALIDATION_FAILED naming each bad field. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const fields = issueFields(result.error, [], bodyKeyName);
  throw new AppError("VALIDATION_FAILED", "Some fields are not valid.", { details: { fields } });
}
