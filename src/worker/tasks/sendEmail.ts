/**
 * send_email: renders a template and sends it over SMTP_URL with nodemailer. Without SMTP_URL it
 * logs that it did not send (recipient and template only, never the content).
 */
import type { Task } from "graphile-worker";
import nodemailer from "nodemailer";
import type { MailConfig } from "../../config.ts";
import { TEMPLATES } from "../../email/templates.ts";
import type { Logger } from "../../logger.ts";

interface SendEmailPayload {
  template: string;
  to: string;
  data?: Record<string, unknown>;
}

export function makeSendEmailTask(mail: MailConfig, logger: Logger): Task {
  const transport = mail.smtpUrl ? nodemailer.createTransport(mail.smtpUrl) : undefined;
  return async (payload) => {
    const { template, to, data } = (payload ?? {}) as Partial<SendEmailPayload>;
    const render = template ? TEMPLATES[template] : undefined;
    if (!render || !to) {
      // Not retryable: a malformed job would fail the same way 25 times.
      logger.error({ template, hasRecipient: Boolean(to) }, "send_email: unknown template or no recipient; dropped");
      return;
    }
    const { subject, text } = render(data ?? {});
    if (!transport) {
      logger.info({ template, to }, "send_email: SMTP_URL is not set; not sent");
      return;
    }
    await transport.sendMail({ from: mail.from, to, subject, text });
    logger.debug({ template, to }, "send_email: sent");
  };
}
