/**
 * Bot tokens at rest: sealed with AES-256-GCM under a key derived from identity's
 * TOTP_ENCODE_SECRET for this purpose alone (the TOTP secrets' key is another), opened only by the
 * delivery job.
 */
import { makeSecretBox, type SecretBox } from "../../platform/auth/secrets.ts";
import type { Config } from "../../platform/config.ts";
import { AppError } from "../../platform/errors.ts";
import { identityConfig } from "../identity/config.ts";

const BOT_TOKEN_PURPOSE = "telegram-bot-token-encryption";

export function botTokenBox(config: Config): SecretBox {
  return makeSecretBox(identityConfig.of(config).totpEncodeSecret, BOT_TOKEN_PURPOSE);
}

/** What BotFather gives: `<bot id>:<secret>`. Anything else is refused before it is stored. */
const TOKEN_FORMAT = /^\d{1,20}:[A-Za-z0-9_-]{20,100}$/;

export function checkBotToken(token: unknown): string {
  if (typeof token !== "string" || !TOKEN_FORMAT.test(token)) {
    throw new AppError("VALIDATION_FAILED", "A Telegram bot token looks like 123456789:AA… (from BotFather).", {
      details: { field: "token" },
    });
  }
  return token;
}
