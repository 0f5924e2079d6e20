/**
 * What Node's HTTP parser refuses before any handler runs is answered in the error table's envelope,
 * not with a bare status line: headers over 16 kB (431 HEADERS_TOO_LARGE), bytes that are not HTTP
 * (400 VALIDATION_FAILED, MALFORMED_HTTP). The connection closes; the server goes on serving.
 */
import { connect } from "node:net";
import { startTestApp, type TestApp } from "../helpers/app.ts";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

/** Sends raw bytes on a connection of its own; answers all the server wrote before it closed. */
function raw(bytes: string): Promise<string> {
  const { port } = new URL(app.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1");
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (received += chunk));
    // The server may close before it has read every byte sent: what it wrote still arrives.
    socket.on("error", (error: NodeJS.ErrnoException) => (error.code === "ECONNRESET" ? undefined : reject(error)));
    socket.on("close", () => resolve(received));
    socket.write(bytes);
  });
}

function parse(answer: string): { status: number; headers: string; body: unknown } {
  const [head = "", body = ""] = answer.split("\r\n\r\n");
  return { status: Number(head.split(" ")[1]), headers: head.toLowerCase(), body: JSON.parse(body) };
}

test("headers over 16 kB: 431 HEADERS_TOO_LARGE in the error envelope", async () => {
  const answer = parse(
    await raw(`GET /api/users/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${"a".repeat(60_000)}\r\n\r\n`),
  );
  expect(answer).toMatchObject({ status: 431, body: { error: { code: "HEADERS_TOO_LARGE" } } });
  expect(answer.headers).toContain("content-type: application/json");
  expect(answer.headers).toContain("connection: close");
});

test("bytes that are not HTTP: 400 VALIDATION_FAILED, MALFORMED_HTTP", async () => {
  for (const request of [
    "GET /api/users/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\u0001b\r\n\r\n",
    "NOT-HTTP AT ALL\r\n\r\n",
    "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello",
  ]) {
    expect([request, parse(await raw(request))]).toMatchObject([
      request,
      { status: 400, body: { error: { code: "VALIDATION_FAILED", details: { reason: "MALFORMED_HTTP" } } } },
    ]);
  }
  expect((await fetch(`${app.url}/ready`)).status).toBe(200);
});
