/**
 * A fake Telegram Bot API (a real HTTP server on 127.0.0.1, port 0) for the broadcasts tests:
 *
 * - `POST /bot<token>/sendMessage` `{chat_id, text}` and `/sendPhoto` `{chat_id, photo, caption}`;
 *   a token other than the expected one answers 401 and counts nothing;
 * - `tooManyRequests(k, retryAfter)`: the next k calls answer 429 with
 *   `{"ok":false,"error_code":429,"parameters":{"retry_after":N}}` (not delivered);
 * - `block(chatId)`: calls for that chat answer 403 "bot was blocked by the user" (not delivered);
 * - `holdAfter(n)`: once n messages are delivered, later ones are delivered (counted: Telegram got
 *   them) but their answers are held back until `recover()` — a client that dies meanwhile never
 *   learns that they arrived.
 *
 * `countsByChat()` is how many messages each chat holds; `messages` lists them in order.
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface DeliveredMessage {
  method: "sendMessage" | "sendPhoto";
  chatId: string;
  text?: string;
  photo?: string;
  caption?: string;
}

export interface FakeTelegram {
  /** The base URL to set as TELEGRAM_API_URL. */
  url: string;
  messages: DeliveredMessage[];
  /** 429 answers given so far. */
  readonly tooManyRequestsAnswered: number;
  /** 403 answers given so far. */
  readonly blockedAnswered: number;
  /** Calls with a wrong token. */
  readonly unauthorized: number;
  /** Answers held back right now. */
  readonly held: number;
  /** Messages delivered and answered 200 so far. */
  readonly answered: number;
  tooManyRequests(count: number, retryAfter: number): void;
  block(chatId: string | number): void;
  holdAfter(delivered: number): void;
  /** Answers the held calls (those whose client is still there) and stops holding. */
  recover(): void;
  countsByChat(): Map<string, number>;
  close(): Promise<void>;
}

export async function startFakeTelegram(token: string): Promise<FakeTelegram> {
  const messages: DeliveredMessage[] = [];
  const blocked = new Set<string>();
  const held: ServerResponse[] = [];
  let tooMany = { left: 0, retryAfter: 1 };
  let holdAfter: number | null = null;
  let tooManyRequestsAnswered = 0;
  let blockedAnswered = 0;
  let unauthorized = 0;
  let answered = 0;

  const answer = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const match = /^\/bot([^/]+)\/(sendMessage|sendPhoto)$/.exec(req.url ?? "");
      if (req.method !== "POST" || !match) return answer(res, 404, { ok: false, error_code: 404 });
      if (decodeURIComponent(match[1]!) !== token) {
        unauthorized += 1;
        return answer(res, 401, { ok: false, error_code: 401, description: "Unauthorized" });
      }
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
      } catch {
        return answer(res, 400, { ok: false, error_code: 400, description: "Bad Request: not JSON" });
      }
      const chatId = String(body.chat_id);
      if (tooMany.left > 0) {
        tooMany.left -= 1;
        tooManyRequestsAnswered += 1;
        return answer(res, 429, {
          ok: false,
          error_code: 429,
          description: `Too Many Requests: retry after ${tooMany.retryAfter}`,
          parameters: { retry_after: tooMany.retryAfter },
        });
      }
      if (blocked.has(chatId)) {
        blockedAnswered += 1;
        return answer(res, 403, { ok: false, error_code: 403, description: "Forbidden: bot was blocked by the user" });
      }
      const method = match[2] as DeliveredMessage["method"];
      messages.push(
        method === "sendPhoto"
          ? { method, chatId, photo: String(body.photo), caption: String(body.caption) }
          : { method, chatId, text: String(body.text) },
      );
      if (holdAfter !== null && messages.length > holdAfter) {
        held.push(res);
        return;
      }
      answered += 1;
      answer(res, 200, { ok: true, result: { message_id: messages.length, chat: { id: Number(chatId) } } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    messages,
    get tooManyRequestsAnswered() {
      return tooManyRequestsAnswered;
    },
    get blockedAnswered() {
      return blockedAnswered;
    },
    get unauthorized() {
      return unauthorized;
    },
    get held() {
      return held.length;
    },
    get answered() {
      return answered;
    },
    tooManyRequests(count, retryAfter) {
      tooMany = { left: count, retryAfter };
    },
    block(chatId) {
      blocked.add(String(chatId));
    },
    holdAfter(delivered) {
      holdAfter = delivered;
    },
    recover() {
      holdAfter = null;
      for (const res of held.splice(0)) {
        if (res.destroyed || res.socket?.destroyed) continue;
        answered += 1;
        answer(res, 200, { ok: true, result: {} });
      }
    },
    countsByChat() {
      const counts = new Map<string, number>();
      for (const message of messages) counts.set(message.chatId, (counts.get(message.chatId) ?? 0) + 1);
      return counts;
    },
    async close() {
      for (const res of held.splice(0)) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
