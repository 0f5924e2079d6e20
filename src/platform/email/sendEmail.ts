/**
 * send_email: renders a template and sends it to each recipient over the pooled SMTP transport.
 * Without SMTP_URL it logs that it did not send (recipient count and template only).
 *
 * A job may name hundreds of recipients (a cancellation batch). Each message has a Message-ID
 * stable per (job, recipient), and once the server accepts it a row in app_private.email_deliveries
 * records it: a retry — after an SMTP error half-way, or after the worker was killed — sends only
 * to the recipients not yet recorded. The one window left is between the server's "250 OK" and
 * that insert (milliseconds): a crash there sends that one message again, with the same Message-ID.
 */
import type { JobHelpers, Task } from "graphile-worker";
import { z } from "zod";
import type { Transporter } from "nodemailer";
import type { MailConfig } from "../config.ts";
import type { EmailTemplate, RenderedEmail } from "./templates.ts";
import { problemsOf } from "../worker/payloadProblems.ts";
import { createSmtpTransport, stableMessageId } from "./transport.ts";
import type { Logger } from "../logger.ts";
import { isMailAddress } from "./address.ts";

/** What a send_email job carries; e-mails sent outside requests carry their tenantId too. */
export const SendEmailPayload = z.looseObject({
  template: z.string().min(1),
  /** One address, or a batch: each recipient gets a message of their own. */
  to: z.union([z.string(), z.array(z.string())]),
  data: z.record(z.string(), z.unknown()).optional(),
  /** The request that caused the e-mail (added by app_private.enqueue_job). */
  requestId: z.string().optional(),
});

/** A send_email job as the task reads it: the message laid out, and who gets it. */
export interface EmailJob {
  template: string;
  message: RenderedEmail;
  /** `to` as given (for the names of its entries), and as the list of recipients, blanks dropped. */
  to: string | string[];
  recipients: string[];
  requestId?: string;
}

/**
 * Reads a send_email payload against the templates: the job, or why the task would drop it whole
 * (an unknown template, data that do not fit it, no recipient; "path: message" each). A recipient
 * that is no e-mail address is not among these: the task refuses each one alone (badRecipients).
 */
export function readEmailJob(
  templates: Readonly<Record<string, EmailTemplate>>,
  payload: unknown,
): { job: EmailJob } | { problems: string[] } {
  const parsed = SendEmailPayload.safeParse(payload);
  if (!parsed.success) return { problems: problemsOf(parsed.error) };
  const { template, to, data, requestId } = parsed.data;
  const chosen = Object.hasOwn(templates, template) ? templates[template] : undefined;
  const fields = chosen?.data.safeParse(data ?? {});
  const recipients = (Array.isArray(to) ? to : [to]).filter((address) => address !== "");
  const problems = [
    ...(chosen ? [] : [`template: must be one of ${Object.keys(templates).join(", ")}`]),
    ...(recipients.length > 0 ? [] : ["to: must name at least one address"]),
    ...(fields?.error ? problemsOf(fields.error, "data") : []),
  ];
  if (problems.length > 0 || !chosen || !fields?.success) return { problems };
  return { job: { template, message: chosen.render(fields.data), to, recipients, requestId } };
}

/** Each recipient that is no e-mail address, as "to.N: …" ("to: …" for a single one). */
export function badRecipients(to: string | string[]): string[] {
  const list = Array.isArray(to) ? to : [to];
  return list.flatMap((address, index) =>
    !address || isMailAddress(address)
      ? []
      : [`${Array.isArray(to) ? `to.${index}` : "to"}: must be an e-mail address`],
  );
}

/** What a send needs from the transport: nodemailer's Transporter. */
export type MailTransport = Pick<Transporter, "sendMail">;

/**
 * `shared`: the worker's pooled transport (startWorker owns and closes it). Without one (a task
 * list made for runOnce), each job opens its own pool and closes it when done.
 */
export function makeSendEmailTask(
  mail: MailConfig,
  logger: Logger,
  templates: Readonly<Record<string, EmailTemplate>>,
  shared?: MailTransport,
): Task {
  const task = sendWith(mail, logger, templates);
  return async (payload, helpers) => {
    if (shared || !mail.smtpUrl) return task(shared, payload, helpers);
    const own = createSmtpTransport({ ...mail, smtpUrl: mail.smtpUrl });
    try {
      return await task(own, payload, helpers);
    } finally {
      own.close();
    }
  };
}

function sendWith(mail: MailConfig, logger: Logger, templates: Readonly<Record<string, EmailTemplate>>) {
  return async (transport: MailTransport | undefined, payload: unknown, helpers: JobHelpers): Promise<void> => {
    const read = readEmailJob(templates, payload);
    if ("problems" in read) {
      // Not retryable: a malformed job would fail the same way 25 times. (The problems name
      // fields, never their values: a template's data may hold a code or a token.)
      logger.error({ problems: read.problems }, "send_email: a job the task cannot read; dropped");
      return;
    }
    const { template, message, recipients, requestId } = read.job;
    const { subject, text } = message;
    if (!transport) {
      logger.info({ template, recipients: recipients.length, requestId }, "send_email: SMTP_URL is not set; not sent");
      return;
    }
    const jobId = helpers.job.id;
    const done = await deliveredMessageIds(helpers, jobId);
    const skipped = done.size;
    let sent = 0;
    let rejected = 0;
    for (const recipient of recipients) {
      const messageId = stableMessageId(jobId, recipient, mail.from);
      if (done.has(messageId)) continue;
      if (!isMailAddress(recipient)) {
        // Refused for good, as a server's 5xx would be: nodemailer reads a string as a list of
        // addresses, so "a@b.test\r\nBcc: c@d.test" would have mailed someone else entirely.
        await record(helpers, messageId, jobId, template, "rejected", "not an e-mail address");
        done.add(messageId);
        rejected++;
        continue;
      }
      try {
        // An address object: nodemailer takes it as it is, without parsing it as a list.
        await transport.sendMail({ from: mail.from, to: { name: "", address: recipient }, subject, text, messageId });
      } catch (error) {
        if (!isPermanentRecipientRefusal(error)) {
          // Temporary (4xx, timeout, connection): stop here, the job is retried with backoff and
          // resumes after the recipients already recorded.
          logger.warn(
            { template, jobId, sent, remaining: recipients.length - done.size, requestId, err: error },
            "send_email: SMTP failed; the job will retry",
          );
          throw error;
        }
        // The server refused this address for good (5xx at RCPT): retrying cannot help, the others
        // must still get theirs.
        await record(helpers, messageId, jobId, template, "rejected", errorMessage(error));
        done.add(messageId);
        rejected++;
        continue;
      }
      await record(helpers, messageId, jobId, template, "sent", null);
      // The same address spelt in another case has the same Message-ID: served once.
      done.add(messageId);
      sent++;
    }
    logger.debug({ template, jobId, sent, rejected, skipped, requestId }, "send_email: done");
  };
}

async function deliveredMessageIds(helpers: JobHelpers, jobId: string): Promise<Set<string>> {
  const { rows } = await helpers.query<{ message_id: string }>(
    "select message_id from app_private.email_deliveries where job_id = $1",
    [jobId],
  );
  return new Set(rows.map((row) => row.message_id));
}

async function record(
  helpers: JobHelpers,
  messageId: string,
  jobId: string,
  template: string,
  outcome: "sent" | "rejected",
  detail: string | null,
): Promise<void> {
  await helpers.query(
    `insert into app_private.email_deliveries (message_id, job_id, template, outcome, detail)
     values ($1, $2, $3, $4, $5)
     on conflict (message_id) do nothing`,
    [messageId, jobId, template, outcome, detail],
  );
}

/** nodemailer marks a refused RCPT as EENVELOPE with the server's reply code. */
function isPermanentRecipientRefusal(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { code, responseCode } = error as { code?: unknown; responseCode?: unknown };
  return code === "EENVELOPE" && typeof responseCode === "number" && responseCode >= 500 && responseCode < 600;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 500) : String(error).slice(0, 500);
}
