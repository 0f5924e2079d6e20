/**
 * A request sent as exactly these bytes, on a connection of its own, for what a client library
 * would not send (no Content-Length, a header twice): everything the server wrote until it closed.
 */
import { connect } from "node:net";

export function sendRaw(baseUrl: string, bytes: string): Promise<string> {
  const { port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1", () => socket.write(bytes));
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (received += chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve(received));
  });
}
