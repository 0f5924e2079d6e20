/**
 * The SMTP connection pool every send_email job shares: a few long-lived connections instead of
 * one per message, and short limits so that a slow or silent server fails a message in seconds
 * (nodemailer's defaults wait 2 min to connect, 30 s for the greeting, 10 min of silence).
 */
import { createHash } from "node:crypto";
import nodemailer, { type Transporter } from "nodemailer";
import SMTPPool from "nodemailer/lib/smtp-pool/index.js";
import type { MailConfig } from "../config.ts";

export const MAIL_DEFAULTS = { concurrency: 2, connectTimeoutMs: 5_000, socketTimeoutMs: 20_000 } as const;

export function createSmtpTransport(mail: MailConfig & { smtpUrl: string }): Transporter<SMTPPool.SentMessageInfo> {
  const connectTimeout = mail.connectTimeoutMs ?? MAIL_DEFAULTS.connectTimeoutMs;
  // The pool itself, not createTransport({ url, … }): given a url, createTransport keeps only
  // what the URL says and drops every other option.
  const pool = new SMTPPool({
    url: mail.smtpUrl,
    pool: true,
    // One connection per concurrent send_email job: a job sends its recipients one after another.
    maxConnections: mail.concurrency ?? MAIL_DEFAULTS.concurrency,
    connectionTimeout: connectTimeout,
    greetingTimeout: connectTimeout,
    dnsTimeout: connectTimeout,
    socketTimeout: mail.socketTimeoutMs ?? MAIL_DEFAULTS.socketTimeoutMs,
  });
  return nodemailer.createTransport(pool);
}

/**
 * The Message-ID of one job's message to one recipient: the same on every retry of the job, so
 * the delivery record finds it, and a receiving server that dedupes on Message-ID can too.
 */
export function stableMessageId(jobId: string, recipient: string, from: string): string {
  const digest = createHash("sha256").update(recipient.trim().toLowerCase()).digest("hex").slice(0, 24);
  return `<job-${jobId}.${digest}@${domainOf(from)}>`;
}

function domainOf(from: string): string {
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1];
  return domain?.includes(".") ? domain.toLowerCase() : "tessera.local";
}
