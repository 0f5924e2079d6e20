/**
 * The e-mails Tessera sends. Only the template meant to carry a secret (a code or a reset token)
 * receives it, through `data`; nothing else (logs included) ever sees it.
 */
export interface RenderedEmail {
  subject: string;
  text: string;
}

type Data = Record<string, unknown>;
const str = (value: unknown) => (typeof value === "string" || typeof value === "number" ? String(value) : "");

export const TEMPLATES: Record<string, (data: Data) => RenderedEmail> = {
  registration_code: (data) => ({
    subject: "Your Tessera confirmation code",
    text: `Your confirmation code is ${str(data.code)}.\n\nIt expires in ${str(data.minutes)} minutes. If you did not try to register, ignore this e-mail.`,
  }),
  registration_exists: () => ({
    subject: "Someone tried to register with your address",
    text: "Someone tried to create an account with this e-mail address, which already has one.\n\nIf it was you, sign in or reset your password instead.",
  }),
  password_reset: (data) => ({
    subject: "Reset your Tessera password",
    text: `Use this token to set a new password: ${str(data.token)}\n\nIt expires in ${str(data.minutes)} minutes and works once. If you did not ask for it, ignore this e-mail.`,
  }),
  password_changed: () => ({
    subject: "Your Tessera password was changed",
    text: "Your password was changed and your other sessions were signed out.\n\nIf this was not you, reset your password now.",
  }),
  two_factor_enabled: () => ({
    subject: "Two-factor authentication is on",
    text: "Two-factor authentication was turned on for your account. Keep your recovery codes somewhere safe.",
  }),
  event_reminder: (data) => ({
    subject: `Reminder: ${str(data.name)}`,
    text: `${str(data.name)} starts at ${str(data.startsAt)}${data.location ? ` at ${str(data.location)}` : ""}. See you there!`,
  }),
  event_cancelled: (data) => ({
    subject: `Cancelled: ${str(data.name)}`,
    text: `${str(data.name)} has been cancelled${data.reason ? `: ${str(data.reason)}` : "."}`,
  }),
  two_factor_disabled: () => ({
    subject: "Two-factor authentication is off",
    text: "Two-factor authentication was turned off for your account. If this was not you, reset your password now.",
  }),
};
