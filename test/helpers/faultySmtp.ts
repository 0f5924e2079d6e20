/**
 * A real SMTP server (smtp-server on 127.0.0.1) that can misbehave on cue, for fault tests:
 *
 * - `refuseAfter(n, code, stage)`: once n messages are accepted, answer `code` (451) to every RCPT
 *   or DATA until `recover()`;
 * - `holdAfter(n)`: once n messages are accepted, keep the answer to the next DATA back until
 *   `recover()`. As a real server, it takes responsibility for a message only with its final
 *   "250": a held message whose client went away before that is dropped, never counted;
 * - `silent()`: accept TCP connections and never greet until `recover()`;
 * - `refuseRecipient(address, code)`: always answer `code` (550) to RCPT TO that address.
 *
 * `accepted` lists what the server took responsibility for; `countsByRecipient()` is what each
 * mailbox would hold.
 */
import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerSession } from "smtp-server";

export interface AcceptedEmail {
  to: string[];
  subject: string;
  messageId: string;
  raw: string;
}

type Mode =
  | { kind: "normal" }
  | { kind: "refuse"; after: number; code: number; stage: "rcpt" | "data" }
  | { kind: "hold"; after: number }
  | { kind: "silent" };

interface Held {
  session: SMTPServerSession;
  raw: string;
  release: (error?: Error) => void;
}

export interface FaultySmtp {
  url: string;
  accepted: AcceptedEmail[];
  /** Answers refused (RCPT or DATA) so far. */
  readonly refusals: number;
  /** DATA answers held back right now, and connections waiting for a greeting right now. */
  readonly held: number;
  readonly waitingForGreeting: number;
  /** Connections open right now. */
  readonly openConnections: number;
  refuseAfter(after: number, code?: number, stage?: "rcpt" | "data"): void;
  holdAfter(after: number): void;
  silent(): void;
  refuseRecipient(address: string, code?: number): void;
  /** Back to normal: held messages of still-connected clients are accepted, greetings sent. */
  recover(): void;
  countsByRecipient(): Map<string, number>;
  close(): Promise<void>;
}

/** `port`: listen there (a port the test kept closed until now); by default any free port. */
export async function startFaultySmtp(options: { port?: number } = {}): Promise<FaultySmtp> {
  const accepted: AcceptedEmail[] = [];
  const open = new Set<string>();
  const held: Held[] = [];
  const ungreeted: Array<{ session: SMTPServerSession; greet: () => void }> = [];
  let mode: Mode = { kind: "normal" };
  let refusals = 0;
  const refusedRecipients = new Map<string, number>();

  const accept = (session: SMTPServerSession, raw: string) => {
    accepted.push({
      to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
      subject: /^Subject: (.*)$/m.exec(raw)?.[1]?.trim() ?? "",
      messageId: /^Message-ID: (.*)$/im.exec(raw)?.[1]?.trim() ?? "",
      raw,
    });
  };
  const refusal = (code: number) =>
    Object.assign(new Error(code >= 500 ? `No such mailbox (${code})` : `Try again later (${code})`), {
      responseCode: code,
    });
  const refusing = (stage: "rcpt" | "data") =>
    mode.kind === "refuse" && mode.stage === stage && accepted.length >= mode.after;

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    disableReverseLookup: true,
    logger: false,
    closeTimeout: 100,
    onConnect(session, callback) {
      open.add(session.id);
      if (mode.kind === "silent") ungreeted.push({ session, greet: () => callback() });
      else callback();
    },
    onClose(session) {
      open.delete(session.id);
    },
    onRcptTo(address, _session, callback) {
      const permanent = refusedRecipients.get(address.address.toLowerCase());
      if (permanent !== undefined) {
        refusals++;
        return callback(refusal(permanent));
      }
      if (refusing("rcpt")) {
        refusals++;
        return callback(refusal(mode.kind === "refuse" ? mode.code : 451));
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        if (refusing("data")) {
          refusals++;
          return callback(refusal(mode.kind === "refuse" ? mode.code : 451));
        }
        if (mode.kind === "hold" && accepted.length >= mode.after) {
          held.push({ session, raw, release: callback });
          return;
        }
        accept(session, raw);
        callback();
      });
    },
  });
  // A client cut mid-conversation (a worker killed with SIGKILL) makes the server emit "error"
  // (ECONNRESET); without a listener that would be an unhandled error failing the whole test file.
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;

  return {
    url: `smtp://127.0.0.1:${port}`,
    accepted,
    get refusals() {
      return refusals;
    },
    get held() {
      return held.length;
    },
    get waitingForGreeting() {
      return ungreeted.filter(({ session }) => open.has(session.id)).length;
    },
    get openConnections() {
      return open.size;
    },
    refuseAfter(after, code = 451, stage = "rcpt") {
      mode = { kind: "refuse", after, code, stage };
    },
    holdAfter(after) {
      mode = { kind: "hold", after };
    },
    silent() {
      mode = { kind: "silent" };
    },
    refuseRecipient(address, code = 550) {
      refusedRecipients.set(address.toLowerCase(), code);
    },
    recover() {
      mode = { kind: "normal" };
      for (const message of held.splice(0)) {
        // The client is gone: it never heard "250", so the message was never accepted.
        if (!open.has(message.session.id)) continue;
        accept(message.session, message.raw);
        message.release();
      }
      for (const { session, greet } of ungreeted.splice(0)) if (open.has(session.id)) greet();
    },
    countsByRecipient() {
      const counts = new Map<string, number>();
      for (const email of accepted) for (const to of email.to) counts.set(to, (counts.get(to) ?? 0) + 1);
      return counts;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
