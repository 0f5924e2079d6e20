/** A real SMTP server on 127.0.0.1 that keeps every message it receives (smtp-server). */
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface CapturedEmail {
  to: string[];
  subject: string;
  raw: string;
}

export interface SmtpCapture {
  url: string;
  messages: CapturedEmail[];
  /** Resolves with the first message to `to` matching `subject`, waiting for it to arrive. */
  waitFor(to: string, subject: RegExp, timeoutMs?: number): Promise<CapturedEmail>;
  close(): Promise<void>;
}

export async function startSmtpCapture(): Promise<SmtpCapture> {
  const messages: CapturedEmail[] = [];
  const waiters = new Set<() => void>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const subject = /^Subject: (.*)$/m.exec(raw)?.[1]?.trim() ?? "";
        messages.push({ to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()), subject, raw });
        waiters.forEach((wake) => wake());
        callback();
      });
    },
  });
  // A client cut mid-conversation (a worker killed with SIGKILL) makes the server emit "error"
  // (ECONNRESET); without a listener that would be an unhandled error failing the whole test file.
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    waitFor(to, subject, timeoutMs = 20_000) {
      const find = () => messages.find((m) => m.to.includes(to.toLowerCase()) && subject.test(m.subject));
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = find();
          if (found) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `no e-mail to ${to} matching ${subject} within ${timeoutMs} ms; ` +
                `got ${JSON.stringify(messages.map((m) => [m.to, m.subject]))}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The body of a captured message with quoted-printable soft breaks undone. */
export function bodyOf(email: CapturedEmail): string {
  return email.raw.replace(/=\r?\n/g, "").replace(/=3D/g, "=");
}
