/** The process-wide pino logger; every other module takes a child of it. */
import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(level: string, name = "tessera"): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ["req.headers.authorization", "*.password", "*.token", "*.refreshToken", "*.accessToken"],
      censor: "[redacted]",
    },
  });
}
