/** What the operating system answers, in the one-line forms the commands print. */
import { createServer } from "node:net";

/** The errno code of a failed system call (`ENOENT`, `EACCES`…), or the error itself as text. */
export function errnoCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? String(error);
}

/** Why a port named by `variable` could not be listened on, and what to do: one line. */
export function listenRefusal(variable: string, port: number, error: unknown): string {
  return errnoCode(error) === "EADDRINUSE"
    ? `${variable} ${port} is in use by another process: stop it, or set ${variable} to another port.`
    : `${variable} ${port} cannot be listened on (${errnoCode(error)}): set ${variable} to another port.`;
}

/**
 * The preferred port if it is free on 127.0.0.1, otherwise one the kernel names (0: any). Another
 * process may still take it before the caller listens.
 */
export async function freePort(preferred = 0): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number | undefined>((done) => {
      const server = createServer();
      server.once("error", () => done(undefined));
      server.listen(port, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => done(typeof address === "object" && address ? address.port : undefined));
      });
    });
  return (await tryPort(preferred)) ?? (await tryPort(0)) ?? preferred;
}
