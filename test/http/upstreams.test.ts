/**
 * The services the worker calls, broken or hostile, over real local HTTP servers: a redirect is not
 * followed (the other host hears nothing), an answer past its size bound is dropped unread, and an
 * error page that echoes the Contms token does not carry it into the job's error.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { sendBroadcastMessage } from "../../src/modules/broadcasts/telegram.ts";
import { requestJson } from "../../src/modules/payments/providers/http.ts";
import { contmsClient } from "../../src/modules/subscriptions/contms.ts";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const servers: Server[] = [];
afterAll(() => Promise.all(servers.map((server) => new Promise((done) => server.close(done)))));

/** A server on a free port; `heard` lists the paths it was asked for. */
async function serve(handler: Handler): Promise<{ url: string; heard: string[] }> {
  const heard: string[] = [];
  const server = createServer((req, res) => {
    heard.push(req.url ?? "");
    req.resume();
    req.on("end", () => handler(req, res));
  });
  servers.push(server);
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, heard };
}

const redirectTo =
  (location: string, status = 307): Handler =>
  (_req, res) => {
    res.writeHead(status, { location }).end();
  };

/** A JSON body of about `bytes` bytes: `{"items":[], "pad": "xxx…"}`. */
const padded = (bytes: number) => `{"items":[],"pad":"${"x".repeat(bytes)}"}`;

test("Contms: a redirect is not followed; the other host hears nothing and no answer is taken", async () => {
  const elsewhere = await serve((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" }).end('{"items":[]}');
  });
  for (const status of [301, 302, 303, 307, 308]) {
    const contms = await serve(redirectTo(`${elsewhere.url}/products`, status));
    const client = contmsClient({ apiUrl: contms.url, apiToken: "secret-token-1" });
    await expect(client.listProducts()).rejects.toThrow(/Contms GET \/products failed/);
    const issue = client.issue({ productId: "p", reference: "r", customer: { telegramId: 1 } });
    await expect(issue).rejects.toThrow(/Contms POST \/subscriptions failed/);
  }
  expect(elsewhere.heard).toEqual([]);
});

test("Contms: an answer over 16 MiB, or one that inflates past it, is dropped unread", async () => {
  const big = await serve((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    // No Content-Length: the bound is met while reading.
    const chunk = "x".repeat(1024 * 1024);
    res.write('{"items":[],"pad":"');
    for (let i = 0; i < 20 && !res.destroyed; i++) res.write(chunk);
    res.end('"}');
  });
  await expect(contmsClient({ apiUrl: big.url }).listProducts()).rejects.toThrow(/larger than 16777216 bytes/);
  const bomb = gzipSync(padded(20 * 1024 * 1024));
  const zipped = await serve((_req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" }).end(bomb);
  });
  await expect(contmsClient({ apiUrl: zipped.url }).listProducts()).rejects.toThrow(/larger than/);
  // Under the bound, the same answer is read.
  const fine = await serve((_req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
    res.end(gzipSync(padded(1024)));
  });
  await expect(contmsClient({ apiUrl: fine.url }).listProducts()).resolves.toEqual([]);
});

test("Contms: an error page that echoes the request does not carry the token into the error", async () => {
  const echo = await serve((req, res) => {
    res.writeHead(502, { "content-type": "text/plain" }).end(`bad gateway; you sent ${req.headers.authorization}`);
  });
  const error = await contmsClient({ apiUrl: echo.url, apiToken: "secret-token-2" })
    .listProducts()
    .catch((caught: Error) => caught);
  expect((error as Error).message).toBe(
    "Contms GET /products answered 502: bad gateway; you sent Bearer [CONTMS_API_TOKEN]",
  );
});

test("Telegram: a redirect is no delivery, and is not followed with the token in its path", async () => {
  const elsewhere = await serve((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
  });
  const telegram = await serve((req, res) => redirectTo(`${elsewhere.url}${req.url}`)(req, res));
  const outcome = await sendBroadcastMessage(telegram.url, "123:token", { chatId: "1", text: "hi" }, 5_000);
  expect(outcome.kind).toBe("failed");
  expect(JSON.stringify(outcome)).not.toContain("123:token");
  expect(elsewhere.heard).toEqual([]);
  expect(telegram.heard).toEqual(["/bot123:token/sendMessage"]);
});

test("Telegram: a 429 whose answer is over 1 MiB is read as no answer: retried after a second", async () => {
  const telegram = await serve((_req, res) => {
    res.writeHead(429, { "content-type": "application/json" });
    res.end(`{"ok":false,"parameters":{"retry_after":7},"pad":"${"x".repeat(2 * 1024 * 1024)}"}`);
  });
  const outcome = await sendBroadcastMessage(telegram.url, "1:t", { chatId: "1", text: "hi" }, 5_000);
  expect(outcome).toMatchObject({ kind: "retryAfter", seconds: 1 });
  const small = await serve((_req, res) => {
    res.writeHead(429, { "content-type": "application/json" }).end('{"ok":false,"parameters":{"retry_after":7}}');
  });
  const read = await sendBroadcastMessage(small.url, "1:t", { chatId: "1", text: "hi" }, 5_000);
  expect(read).toMatchObject({ kind: "retryAfter", seconds: 7 });
});

test("Telegram: an error that echoes the request's path does not carry the token into last_error", async () => {
  const telegram = await serve((req, res) => {
    res.writeHead(400, { "content-type": "application/json" });
    res.end(JSON.stringify({ ok: false, description: `Bad Request: no route for POST ${req.url}` }));
  });
  const outcome = await sendBroadcastMessage(telegram.url, "123:secret", { chatId: "1", text: "hi" }, 5_000);
  expect(outcome).toEqual({ kind: "failed", error: "400 Bad Request: no route for POST /bot[bot token]/sendMessage" });
});

test("Telegram: the token echoed URL-encoded, or only its secret part, is not carried either", async () => {
  const token = "123456:ABCdefghijklmnopqrstuvwxyz_-12";
  // Every character encoded, or some, in upper or lower case hex (the last two were missed before).
  const everyChar = [...token].map((char) => `%${char.charCodeAt(0).toString(16)}`).join("");
  const someChars = token.replace(/[:jz_-]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
  const telegram = await serve((_req, res) => {
    const encoded = `all=${everyChar} some=${someChars}`;
    const description = `Bad Request: enc=${encodeURIComponent(token)} secret=${token.split(":")[1]} ${encoded}`;
    res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ ok: false, description }));
  });
  const outcome = await sendBroadcastMessage(telegram.url, token, { chatId: "1", text: "hi" }, 5_000);
  expect(outcome).toEqual({
    kind: "failed",
    error: "400 Bad Request: enc=[bot token] secret=[bot token] all=[bot token] some=[bot token]",
  });
});

test("payment providers: an answer over 1 MiB fails the call, naming the bound", async () => {
  const provider = await serve((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" }).end(padded(2 * 1024 * 1024));
  });
  await expect(requestJson("mock", `${provider.url}/invoices/1`, { method: "GET" })).rejects.toThrow(
    "mock: GET /invoices/1 failed: the answer is larger than 1048576 bytes",
  );
});

test("Contms and the payment providers word a call that got no answer alike: the cause, or timed out", async () => {
  // A port that was just free: nothing listens there.
  const closed = await serve(() => undefined);
  const server = servers.pop()!;
  await new Promise((done) => server.close(done));
  const contms = contmsClient({ apiUrl: closed.url, apiToken: "t" });
  await expect(contms.listProducts()).rejects.toThrow("Contms GET /products failed: fetch failed (ECONNREFUSED)");
  await expect(requestJson("mock", `${closed.url}/invoices/1`, { method: "GET" })).rejects.toThrow(
    "mock: GET /invoices/1 failed: fetch failed (ECONNREFUSED)",
  );
  // A server that never answers: the provider's own bound, then the same two words.
  const silent = await serve(() => undefined);
  await expect(requestJson("mock", `${silent.url}/invoices/1`, { method: "GET", timeoutMs: 200 })).rejects.toThrow(
    "mock: GET /invoices/1 timed out",
  );
});
