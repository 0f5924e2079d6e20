/**
 * Broadcasts' environment variables: the Telegram Bot API (or a compatible gateway), how many
 * customers one delivery job sends to, and the pace of one job.
 */
import { configFragment } from "../../platform/config.ts";
import { httpUrl, integer } from "../../platform/configSchema.ts";

export interface BroadcastsConfig {
  /** Base URL of the Bot API: requests go to `<base>/bot<token>/sendMessage`. */
  telegramApiUrl: string;
  /** Deliveries per broadcast_deliver job (one job per batch). */
  batchSize: number;
  /** Messages per second one delivery job sends at most; 0: no pacing (429 answers still pause it). */
  messagesPerSecond: number;
  /** Longest Telegram answer a job waits for, in milliseconds. */
  requestTimeoutMs: number;
}

export const broadcastsConfig = configFragment({
  variables: {
    TELEGRAM_API_URL: httpUrl().default("https://api.telegram.org"),
    BROADCASTS_BATCH_SIZE: integer(1, 1000).default(100),
    BROADCASTS_MESSAGES_PER_SECOND: integer(0, 1000).default(25),
    BROADCASTS_REQUEST_TIMEOUT_MS: integer(100, 120_000).default(15_000),
  },
  build: (env): BroadcastsConfig => ({
    telegramApiUrl: env.TELEGRAM_API_URL.replace(/\/+$/, ""),
    batchSize: env.BROADCASTS_BATCH_SIZE,
    messagesPerSecond: env.BROADCASTS_MESSAGES_PER_SECOND,
    requestTimeoutMs: env.BROADCASTS_REQUEST_TIMEOUT_MS,
  }),
});
