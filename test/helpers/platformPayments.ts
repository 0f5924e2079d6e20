/**
 * A fake of the platform payment system, for tests: a real HTTP server on 127.0.0.1 with one
 * account (login, password, TOTP secret). It checks TOTP codes with its own RFC 6238 code (not the
 * library the client uses), issues session tokens, and lets a test end every session (the next call
 * gets 401), count sign-ins, and settle a payment.
 */
import { createHmac, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type PlatformStatus = "pending" | "paid" | "failed" | "cancelled";

export interface PlatformPayment {
  id: string;
  status: PlatformStatus;
  amount: string;
  currency: string;
  description: string;
  reference: string;
}

export interface FakePlatform {
  baseUrl: string;
  login: string;
  password: string;
  /** The account's base32 TOTP secret. */
  twoFactorKey: string;
  /** Accepted and refused sign-ins so far. */
  logins: { accepted: number; refused: number };
  /** Calls to /api/payments*, with the status each one got. */
  calls: Array<{ method: string; path: string; status: number }>;
  payments: ReadonlyMap<string, PlatformPayment>;
  /** Ends every session: the next call with an old token gets 401. */
  expireSessions(): void;
  /** While false, every token is refused with 401 (sign-ins still succeed): a broken session store. */
  honourTokens(on: boolean): void;
  settle(id: string, status: PlatformStatus): void;
  stop(): Promise<void>;
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** A random base32 secret of `bytes` bytes. */
export function randomBase32Secret(bytes = 20): string {
  const data = randomBytes(bytes);
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of data) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

function base32Decode(secret: string): Buffer {
  const clean = secret.replace(/=+$/, "").toUpperCase();
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of clean) {
    const index = BASE32.indexOf(char);
    if (index < 0) throw new Error("not base32");
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

/** RFC 6238: HOTP (RFC 4226, HMAC-SHA1, 6 digits) of the 30-second step. */
export function totpAt(secret: string, step: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(code).padStart(6, "0");
}

function totpMatches(secret: string, code: unknown): boolean {
  if (typeof code !== "string" || !/^\d{6}$/.test(code)) return false;
  const step = Math.floor(Date.now() / 1000 / 30);
  return [step - 1, step, step + 1].some((candidate) => totpAt(secret, candidate) === code);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export async function startFakePlatform(): Promise<FakePlatform> {
  const login = `shop-${randomBytes(4).toString("hex")}`;
  const password = randomBytes(18).toString("base64url");
  const twoFactorKey = randomBase32Secret();
  const sessions = new Set<string>();
  const payments = new Map<string, PlatformPayment>();
  const logins = { accepted: 0, refused: 0 };
  const calls: FakePlatform["calls"] = [];
  let baseUrl = "";
  let tokensWork = true;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://fake.invalid").pathname;
    if (path === "/api/auth/login" && req.method === "POST") {
      const body = await readJson(req);
      if (body?.login === login && body.password === password && totpMatches(twoFactorKey, body.totp)) {
        logins.accepted++;
        const token = randomBytes(24).toString("base64url");
        sessions.add(token);
        send(res, 200, { token });
      } else {
        logins.refused++;
        send(res, 401, { error: "invalid credentials" });
      }
      return;
    }
    const match = /^\/api\/payments(?:\/([^/]+))?$/.exec(path);
    if (!match) return send(res, 404, { error: "not found" });
    const answer = (status: number, body: unknown) => {
      calls.push({ method: req.method ?? "", path, status });
      send(res, status, body);
    };
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (!token || !sessions.has(token) || !tokensWork) return answer(401, { error: "unauthorized" });
    const id = match[1] === undefined ? undefined : decodeURIComponent(match[1]);
    if (id === undefined && req.method === "POST") {
      const body = await readJson(req);
      const { amount, currency, description, reference } = body ?? {};
      if (typeof amount !== "string" || typeof currency !== "string" || typeof reference !== "string")
        return answer(422, { error: "amount, currency and reference are required" });
      const payment: PlatformPayment = {
        id: `pp-${randomBytes(8).toString("hex")}`,
        status: "pending",
        amount,
        currency,
        description: typeof description === "string" ? description : "",
        reference,
      };
      payments.set(payment.id, payment);
      return answer(201, { id: payment.id, paymentUrl: `${baseUrl}/pay/${payment.id}` });
    }
    if (id !== undefined && req.method === "GET") {
      const payment = payments.get(id);
      if (!payment) return answer(404, { error: "no such payment" });
      const { status, amount, currency } = payment;
      return answer(200, { id, status, amount, currency });
    }
    answer(405, { error: "method not allowed" });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => send(res, 500, { error: "internal" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    login,
    password,
    twoFactorKey,
    logins,
    calls,
    payments,
    expireSessions: () => sessions.clear(),
    honourTokens: (on) => {
      tokensWork = on;
    },
    settle(id, status) {
      const payment = payments.get(id);
      if (!payment) throw new Error(`no payment ${id}`);
      payment.status = status;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
