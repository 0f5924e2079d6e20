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
  /** One address, or a batch: each recipient gets a message of their own. */
  to: string | string[];
  data?: Record<string, unknown>;
  /** The request that caused the e-mail (added by app_private.enqueue_job). */
  requestId?: string;
}

export function makeSendEmailTask(mail: MailConfig, logger: Logger): Task {
  const transport = mail.smtpUrl ? nodemailer.createTransport(mail.smtpUrl) : undefined;
  return async (payload) => {
    const { template, to, data, requestId } = (payload ?? {}) as Partial<SendEmailPayload>;
    const render = template ? TEMPLATES[template] : undefined;
    const recipients = (Array.isArray(to) ? to : [to]).filter((address): address is string => typeof address === "string" && address !== "");
    if (!render || recipients.length === 0) {
      // Not retryable: a malformed job would fail the same way 25 times.
      logger.error({ template, recipients: recipients.length }, "send_email: unknown template or no recipient; dropped");
      return;
    }
    const { subject, text } = render(data ?? {});
    if (!transport) {
      logger.info({ template, recipients: recipients.length, requestId }, "send_email: SMTP_URL is not set; not sent");
      return;
    }
    for (const recipient of recipients) {
      await transport.sendMail({ from: mail.from, to: recipient, subject, text });
    }
    logger.debug({ template, recipients: recipients.length, requestId }, "send_email: sent");
  };
}
