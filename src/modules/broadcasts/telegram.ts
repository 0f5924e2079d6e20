/**
 * The one call broadcasts make to Telegram (or a gateway speaking the Bot API): sendMessage, or
 * sendPhoto with the image's public URL and the text as its caption. The answer is classified for
 * the delivery job; the token never appears in a result or an error (it is part of the path). A
 * redirect is not followed (it would carry the token to another host, whose 200 is no delivery),
 * and an answer is read up to TELEGRAM_MAX_ANSWER_BYTES.
 */
import { upstreamText } from "../../platform/http/upstreamBody.ts";

/** Telegram's answers are a few hundred bytes; more is read as no answer body at all. */
const TELEGRAM_MAX_ANSWER_BYTES = 1024 * 1024;

export type SendOutcome =
  | { kind: "sent" }
  /** 403: the user blocked the bot (or never started it): final. */
  | { kind: "blocked"; error: string }
  /** 429: wait this many seconds, then try the same message again. */
  | { kind: "retryAfter"; seconds: number; error: string }
  /** Telegram refused the message (4xx): retrying would not help. Also an answer whose fate is unknown. */
  | { kind: "failed"; error: string }
  /** Telegram did not take it (5xx, or no connection was made): try again later. */
  | { kind: "temporary"; error: string };

export interface BroadcastMessage {
  chatId: string;
  text: string;
  /** The image's public URL: sendPhoto with `text` as the caption. */
  photoUrl?: string;
}

interface TelegramAnswer {
  ok?: boolean;
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number };
}

/** Errors raised before a request could have reached the server: the message was certainly not sent. */
const NOT_CONNECTED = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);

function errorCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown } }).cause;
  const code = cause?.code ?? (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/** A pattern of ASCII text in which any character may also be percent-encoded (hex in either case). */
function percentEncodable(text: string): string {
  return [...text]
    .map((char) => {
      const hex = char
        .charCodeAt(0)
        .toString(16)
        .padStart(2, "0")
        .replace(/[a-f]/g, (d) => `[${d}${d.toUpperCase()}]`);
      return `(?:${char.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}|%${hex})`;
    })
    .join("");
}

/**
 * The text with the bot token written `[bot token]`: whole or only its secret part (after the colon),
 * as sent or percent-encoded, wholly or in part, as a gateway in front of the API may echo it. A
 * token is ASCII (BotFather's: digits, a colon, letters, `_` and `-`).
 */
function withoutToken(text: string, token: string): string {
  const secret = token.slice(token.indexOf(":") + 1);
  const forms = [token, secret].filter((form) => form !== "").map(percentEncodable);
  return text.replace(new RegExp(forms.join("|"), "g"), "[bot token]");
}

export async function sendBroadcastMessage(
  baseUrl: string,
  token: string,
  message: BroadcastMessage,
  timeoutMs: number,
): Promise<SendOutcome> {
  const method = message.photoUrl ? "sendPhoto" : "sendMessage";
  const body = message.photoUrl
    ? { chat_id: message.chatId, photo: message.photoUrl, caption: message.text }
    : { chat_id: message.chatId, text: message.text };
  let response: Response;
  try {
    response = await fetch(`${baseUrl}/bot${token}/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "error",
    });
  } catch (error) {
    const code = errorCode(error) ?? (error as Error).name;
    if (NOT_CONNECTED.has(code)) return { kind: "temporary", error: `no connection to Telegram (${code})` };
    // The request may have reached Telegram: sending again could deliver it twice.
    return { kind: "failed", error: `UNKNOWN: the call to Telegram ended without an answer (${code})` };
  }
  const answer = (await upstreamText(response, TELEGRAM_MAX_ANSWER_BYTES)
    .then(JSON.parse)
    .catch(() => ({}))) as TelegramAnswer;
  // An answer that echoes the request's path would carry the token into the delivery's last_error.
  const echoed = typeof answer.description === "string" ? withoutToken(answer.description, token) : "";
  const description = `${response.status}${echoed ? ` ${echoed}` : ""}`.slice(0, 500);
  if (response.ok && answer.ok !== false) return { kind: "sent" };
  if (response.status === 429) {
    const seconds = Number(answer.parameters?.retry_after);
    return { kind: "retryAfter", seconds: Number.isFinite(seconds) && seconds > 0 ? seconds : 1, error: description };
  }
  if (response.status === 403) return { kind: "blocked", error: description };
  if (response.status >= 500) return { kind: "temporary", error: description };
  return { kind: "failed", error: description };
}
