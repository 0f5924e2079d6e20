/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): the sender signs
 * `${id}.${timestamp}.${body}` with HMAC-SHA256 under a `whsec_<base64>` secret and sends
 * `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature: v1,<base64>` (several
 * space-separated signatures may come while a secret rotates). The receiver checks the raw bytes.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

const PREFIX = "whsec_";
/** Deliveries older or newer than this are refused (replays, skewed clocks). */
export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

/** The HMAC key of a `whsec_<base64>` secret; throws when the secret is not in that form. */
export function webhookKey(secret: string): Buffer {
  if (!secret.startsWith(PREFIX)) throw new Error("a webhook secret looks like whsec_<base64>");
  const encoded = secret.slice(PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw new Error("a webhook secret looks like whsec_<base64>");
  const key = Buffer.from(encoded, "base64");
  if (key.length < 24) throw new Error("a webhook secret holds at least 24 random bytes");
  return key;
}

/** A new secret of 32 random bytes, in the `whsec_` form. */
export function newWebhookSecret(): string {
  return PREFIX + randomBytes(32).toString("base64");
}

function signature(key: Buffer, id: string, timestamp: string, body: Buffer | string): Buffer {
  return createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest();
}

export interface WebhookHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

/** The three headers of one delivery of `body`. */
export function signWebhook(key: Buffer, id: string, body: Buffer | string, now: Date = new Date()): WebhookHeaders {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  return {
    "webhook-id": id,
    "webhook-timestamp": timestamp,
    "webhook-signature": `v1,${signature(key, id, timestamp, body).toString("base64")}`,
  };
}

export type WebhookCheck = { ok: true; id: string } | { ok: false; reason: string };

/** Checks a delivery's headers against its raw body: the signature, in constant time, and its age. */
export function verifyWebhook(
  key: Buffer,
  headers: Record<string, string | string[] | undefined>,
  body: Buffer,
  now: Date = new Date(),
): WebhookCheck {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const signatures = headers["webhook-signature"];
  if (typeof id !== "string" || typeof timestamp !== "string" || typeof signatures !== "string")
    return { ok: false, reason: "the webhook-id, webhook-timestamp and webhook-signature headers are required" };
  if (id.length === 0 || id.length > 200) return { ok: false, reason: "webhook-id is 1 to 200 characters" };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: "webhook-timestamp is Unix seconds" };
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > WEBHOOK_TOLERANCE_SECONDS)
    return { ok: false, reason: "webhook-timestamp is too far from now" };
  const expected = signature(key, id, timestamp, body);
  for (const candidate of signatures.split(" ")) {
    // `v1,<base64>` exactly as the scheme writes it: an HMAC-SHA256 is 43 characters and one `=`;
    // Buffer.from would read past junk, a missing padding or a second comma.
    const match = /^v1,([A-Za-z0-9+/]{43}=)$/.exec(candidate);
    if (!match) continue;
    const given = Buffer.from(match[1]!, "base64");
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true, id };
  }
  return { ok: false, reason: "no signature matches" };
}
