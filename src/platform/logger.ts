/** The process-wide pino logger; every other module takes a child of it. */
import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger };

/**
 * JSON lines by default; readable colourised lines (pino-pretty) when `pretty` — development on a
 * terminal. An explicit destination (tests) always gets JSON.
 */
export function createLogger(level: string, name = "tessera", destination?: DestinationStream, pretty = false): Logger {
  const options = {
    name,
    level,
    redact: {
      paths: ["req.headers.authorization", "*.password", "*.token", "*.refreshToken", "*.accessToken"],
      censor: "[redacted]",
    },
  };
  if (destination) return pino(options, destination);
  if (pretty)
    return pino({
      ...options,
      transport: {
        target: "pino-pretty",
        options: { colorize: true, translateTime: "HH:MM:ss.l", ignore: "pid,hostname" },
      },
    });
  return pino(options);
}
