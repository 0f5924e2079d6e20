/** The process-wide pino logger; every other module takes a child of it. */
import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger };

export function createLogger(level: string, name = "tessera", destination?: DestinationStream): Logger {
  const options = {
    name,
    level,
    redact: {
      paths: ["req.headers.authorization", "*.password", "*.token", "*.refreshToken", "*.accessToken"],
      censor: "[redacted]",
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
