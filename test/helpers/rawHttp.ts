/**
 * A request sent as exactly these bytes, on a connection of its own, for what a client library
 * would not send (no Content-Length, a header twice): everything the server wrote until it closed.
 */
import { connect } from "node:net";

export function sendRaw(baseUrl: string, bytes: string): Promise<string> {
  return holdRaw(baseUrl, bytes).finish("");
}

/**
 * A request whose head is sent now and whose body only when `finish` is called, on a connection of
 * its own: for what the server decides between reading the head and reading the body. `finish`
 * resolves to everything the server wrote until it closed (the head should say `Connection: close`).
 */
export function holdRaw(baseUrl: string, head: string): { finish(body: string): Promise<string> } {
  const { port } = new URL(baseUrl);
  const socket = connect(Number(port), "127.0.0.1", () => socket.write(head));
  let received = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => (received += chunk));
  const closed = new Promise<string>((resolve, reject) => {
    socket.on("error", reject);
    socket.on("close", () => resolve(received));
  });
  // An error before `finish` is its caller's to see then, not an unhandled rejection now.
  closed.catch(() => undefined);
  return {
    finish(body) {
      if (body) socket.write(body);
      return closed;
    },
  };
}
