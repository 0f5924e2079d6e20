/** Identity's e-mails: registration, password reset and change, two-factor on and off. */
import { type EmailTemplate, emailTemplate, MINUTES, TEXT } from "../../platform/email/templates.ts";

export const IDENTITY_TEMPLATES: Record<string, EmailTemplate> = {
  registration_code: emailTemplate({ code: TEXT, minutes: MINUTES }, (data) => ({
    subject: "Your Tessera confirmation code",
    text:
      `Your confirmation code is ${data.code}.\n\n` +
      `It expires in ${data.minutes} minutes. If you did not try to register, ignore this e-mail.`,
  })),
  registration_exists: emailTemplate({}, () => ({
    subject: "Someone tried to register with your address",
    text:
      "Someone tried to create an account with this e-mail address, which already has one.\n\n" +
      "If it was you, sign in or reset your password instead.",
  })),
  password_reset: emailTemplate({ token: TEXT, minutes: MINUTES }, (data) => ({
    subject: "Reset your Tessera password",
    text:
      `Use this token to set a new password: ${data.token}\n\n` +
      `It expires in ${data.minutes} minutes and works once. If you did not ask for it, ignore this e-mail.`,
  })),
  password_changed: emailTemplate({}, () => ({
    subject: "Your Tessera password was changed",
    text:
      "Your password was changed, and every session but the one that changed it was signed out.\n\n" +
      "If this was not you, reset your password now.",
  })),
  two_factor_enabled: emailTemplate({}, () => ({
    subject: "Two-factor authentication is on",
    text: "Two-factor authentication was turned on for your account. Keep your recovery codes somewhere safe.",
  })),
  two_factor_disabled: emailTemplate({}, () => ({
    subject: "Two-factor authentication is off",
    text: "Two-factor authentication was turned off for your account. If this was not you, reset your password now.",
  })),
};
