/**
 * What Node's HTTP server refuses before any handler runs is answered in the error table's envelope,
 * not with a bare status line or a silent close: headers over 16 kB (431 HEADERS_TOO_LARGE), bytes
 * that are not HTTP or an HTTP/1.1 request without Host (400 VALIDATION_FAILED, MALFORMED_HTTP), an
 * unknown Expect (417 EXPECTATION_FAILED), CONNECT (405). The connection closes after the answers
 * it still owes the requests before the refused one; the server goes on serving.
 */
import { connect } from "node:net";
import { startTestApp, type TestApp } from "../helpers/app.ts";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

/**
 * Sends raw bytes on a connection of its own, each part once every part before it was answered
 * (all at once for one part); answers all the server wrote before it closed.
 */
function raw(...parts: string[]): Promise<string> {
  const { port } = new URL(app.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1");
    let received = "";
    let sent = 0;
    const next = () => {
      if (sent < parts.length && answers(received).length === sent) socket.write(parts[sent++]!);
    };
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      received += chunk;
      next();
    });
    // The server may close before it has read every byte sent: what it wrote still arrives.
    socket.on("error", (error: NodeJS.ErrnoException) => (error.code === "ECONNRESET" ? undefined : reject(error)));
    socket.on("close", () => resolve(received));
    next();
  });
}

/** Sends `data` on a connection of its own; the first `count` answers, once they have all arrived. */
function firstAnswers(data: string, count: number): Promise<ReturnType<typeof answers>> {
  const { port } = new URL(app.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1", () => socket.write(data));
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      received += chunk;
      if (answers(received).length < count) return;
      socket.destroy();
      resolve(answers(received));
    });
    socket.on("error", reject);
    socket.on("close", () => reject(new Error(`closed after ${answers(received).length} of ${count} answers`)));
  });
}

/** Every complete answer on one connection, in order. */
function answers(stream: string): { status: number; headers: string; body: unknown }[] {
  const found: { status: number; headers: string; body: unknown }[] = [];
  let rest = stream;
  while (rest.startsWith("HTTP/1.1 ")) {
    const headEnd = rest.indexOf("\r\n\r\n");
    const head = rest.slice(0, headEnd);
    const length = Number(/content-length: (\d+)/i.exec(head)?.[1]);
    if (headEnd < 0 || rest.length < headEnd + 4 + length) break;
    const body = rest.slice(headEnd + 4, headEnd + 4 + length);
    found.push({ status: Number(head.split(" ")[1]), headers: head.toLowerCase(), body: JSON.parse(body) });
    rest = rest.slice(headEnd + 4 + length);
  }
  return found;
}

const parse = (stream: string) => answers(stream)[0]!;

const ENVELOPE = (code: string) => ({ error: { code } });

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

test("a refusal after good requests on one connection comes after their answers, in order", async () => {
  const good = "GET /ready HTTP/1.1\r\nHost: x\r\n\r\n";
  // Kept alive: the bad request sent once the good one was answered.
  expect(answers(await raw(good, "NOT-HTTP AT ALL\r\n\r\n"))).toMatchObject([
    { status: 200, body: { status: "ready" } },
    { status: 400, body: ENVELOPE("VALIDATION_FAILED") },
  ]);
  for (const bad of [
    "NOT-HTTP AT ALL\r\n\r\n",
    `GET /ready HTTP/1.1\r\nHost: x\r\nX-Pad: ${"a".repeat(20_000)}\r\n\r\n`,
  ]) {
    // Pipelined: sent together, before the first is answered.
    expect(answers(await raw(good + good + bad))).toMatchObject([
      { status: 200, body: { status: "ready" } },
      { status: 200, body: { status: "ready" } },
      { status: bad.startsWith("NOT") ? 400 : 431 },
    ]);
  }
});

test("an Upgrade the server does not speak (h2c; websocket off /graphql) is an ordinary request", async () => {
  const good = "GET /ready HTTP/1.1\r\nHost: x\r\n\r\n";
  const h2c =
    "GET /ready HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n" +
    "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n";
  const websocket =
    "GET /api/bot/catalog/products HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n" +
    "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
  // Pipelined behind a good request: both are answered, in order (before, neither was). Node reads
  // nothing after such a request (its parser takes the rest for the other protocol's bytes), so it
  // is the last answer on its connection.
  expect(await firstAnswers(good + h2c, 2)).toMatchObject([
    { status: 200, body: { status: "ready" } },
    { status: 200, body: { status: "ready" } },
  ]);
  expect(await firstAnswers(good + websocket, 2)).toMatchObject([
    { status: 200, body: { status: "ready" } },
    { status: 401, body: ENVELOPE("UNAUTHENTICATED") },
  ]);
});

test("a request without Host, an unknown Expect and CONNECT are answered in the envelope", async () => {
  expect(parse(await raw("GET /ready HTTP/1.1\r\n\r\n"))).toMatchObject({
    status: 400,
    body: { error: { code: "VALIDATION_FAILED", details: { reason: "MALFORMED_HTTP" } } },
  });
  expect(
    parse(await raw("POST /api/auth/login HTTP/1.1\r\nHost: x\r\nExpect: bogus\r\nConnection: close\r\n\r\n")),
  ).toMatchObject({ status: 417, body: ENVELOPE("EXPECTATION_FAILED") });
  expect(parse(await raw("CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n"))).toMatchObject({
    status: 405,
    body: ENVELOPE("METHOD_NOT_ALLOWED"),
  });
  // HTTP/1.0 needs no Host.
  expect(parse(await raw("GET /ready HTTP/1.0\r\n\r\n"))).toMatchObject({ status: 200, body: { status: "ready" } });
});

test("a request line without a version or of HTTP/2.0, Host or Content-Type twice, a coding but chunked", async () => {
  const body = JSON.stringify({ tenant: "demo" });
  const chunked = (codings: string) =>
    `POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${codings}\r\n` +
    `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
  for (const request of [
    chunked("Transfer-Encoding: foo, chunked\r\n"),
    chunked("Transfer-Encoding: gzip, chunked\r\n"),
    chunked("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
    "GET /ready\r\n\r\n",
    "GET /ready HTTP/2.0\r\nHost: x\r\n\r\n",
    "GET /ready HTTP/1.1\r\nHost: x\r\nhost: y\r\n\r\n",
    "GET /ready HTTP/1.0\r\nHost: x\r\nHOST: x\r\n\r\n",
    // The body's type twice: Node read the first, a proxy may check the body as the last.
    chunked("Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"),
  ]) {
    expect([request, parse(await raw(request))]).toMatchObject([
      request,
      { status: 400, body: { error: { code: "VALIDATION_FAILED", details: { reason: "MALFORMED_HTTP" } } } },
    ]);
  }
  // chunked alone is read: the body named its tenant, and the login's other fields are missing.
  const read = parse(await raw(chunked("Transfer-Encoding: Chunked\r\nConnection: close\r\n")));
  expect(read).toMatchObject({ status: 400, body: { error: { code: "VALIDATION_FAILED" } } });
  expect(Object.keys((read.body as { error: { details: { fields: object } } }).error.details.fields).sort()).toEqual([
    "login",
    "password",
  ]);
});

test("a Content-Type that gives a parameter twice is malformed; a quoted value is read whole", async () => {
  const post = (path: string, type: string, body: string) =>
    `POST ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: ${type}\r\n` +
    `Content-Length: ${body.length}\r\n\r\n${body}`;
  const login = JSON.stringify({ tenant: "demo" });
  const query = JSON.stringify({ query: "{ __typename }" });
  // The body's readers took the first charset, a proxy may take the last: either order, any case.
  for (const request of [
    post("/api/auth/login", "application/json;charset=utf-8;charset=latin1", login),
    post("/api/auth/login", "application/json; charset=latin1; charset=utf-8", login),
    post("/graphql", "application/json; charset=utf-8; Charset=UTF-8", query),
    post("/graphql", 'application/json; a="1"; A=2', query),
  ]) {
    expect([request, parse(await raw(request))]).toMatchObject([
      request,
      { status: 400, body: { error: { code: "VALIDATION_FAILED", details: { reason: "MALFORMED_HTTP" } } } },
    ]);
  }
  const quoted = 'application/json; a="x;charset=latin1"; charset=utf-8';
  const read = parse(await raw(post("/api/auth/login", quoted, login)));
  expect(read).toMatchObject({ status: 400, body: { error: { code: "VALIDATION_FAILED" } } });
  expect(read.body).toMatchObject({ error: { details: { fields: { login: expect.any(String) } } } });
  expect(parse(await raw(post("/graphql", quoted, query)))).toMatchObject({ status: 200 });
});

test("a WebSocket handshake the server refuses is answered in the envelope", async () => {
  const handshake = (method: string, headers: string) =>
    `${method} /graphql HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n${headers}\r\n`;
  const key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
  const malformedHandshake = {
    status: 400,
    body: { error: { code: "VALIDATION_FAILED", details: { reason: "MALFORMED_HANDSHAKE" } } },
  };
  const noKey = parse(await raw(handshake("GET", "Sec-WebSocket-Version: 13\r\n")));
  expect(noKey).toMatchObject(malformedHandshake);
  expect(noKey.headers).toContain("content-type: application/json");
  const oldVersion = parse(await raw(handshake("GET", `${key}Sec-WebSocket-Version: 7\r\n`)));
  expect(oldVersion).toMatchObject(malformedHandshake);
  expect(oldVersion.headers).toContain("sec-websocket-version: 13, 8");
  // Two Host headers are malformed on a handshake too, not switched.
  const twoHosts = parse(await raw(handshake("GET", `${key}Sec-WebSocket-Version: 13\r\nHost: y\r\n`)));
  expect(twoHosts).toMatchObject({ status: 400, body: { error: { details: { reason: "MALFORMED_HTTP" } } } });
  const post = parse(await raw(handshake("POST", `${key}Sec-WebSocket-Version: 13\r\nContent-Length: 0\r\n`)));
  expect(post).toMatchObject({ status: 405, body: ENVELOPE("METHOD_NOT_ALLOWED") });
  expect(post.headers).toContain("allow: get");
});

/**
 * Sends `head` (with `Expect: 100-continue`), then `body` once the server answers `100 Continue`
 * and only then; everything the server wrote up to its final answer.
 */
function expectingContinue(head: string, body: string): Promise<string> {
  const { port } = new URL(app.url);
  const CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n";
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1", () => socket.write(head));
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      if (received === "" && chunk.startsWith(CONTINUE)) socket.write(body);
      received += chunk;
      if (answers(received.replace(CONTINUE, "")).length > 0) socket.end();
    });
    socket.on("error", reject);
    socket.on("close", () => resolve(received));
  });
}

test("100 Continue is sent when the body is read: a request refused on its headers never invites it", async () => {
  const upload = (expect: string) =>
    "POST /api/images HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n" +
    `Content-Length: 5000000\r\n${expect}\r\n`;
  // No credentials: 401 at once, no 100 Continue, and the connection closes rather than wait for a
  // body it did not ask for.
  const refused = await expectingContinue(upload("Expect: 100-continue\r\n"), "");
  expect(refused).toMatch(/^HTTP\/1\.1 401 /);
  expect(parse(refused)).toMatchObject({ status: 401, body: ENVELOPE("UNAUTHENTICATED") });
  expect(parse(refused).headers).toContain("connection: close");
  // A body that is read is invited first, and the answer is about that body (its tenant is there).
  const body = JSON.stringify({ tenant: "demo" });
  const login =
    "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
    `Content-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`;
  const read = await expectingContinue(login, body);
  expect(read).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 400 /);
  const fields = (parse(read.slice(25)).body as { error: { details: { fields: object } } }).error.details.fields;
  expect(Object.keys(fields).sort()).toEqual(["login", "password"]);
});

test("a body whose Content-Length is over the limit is refused before it is read", async () => {
  const head = (path: string, length: number, expect = "") =>
    `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n${expect}\r\n`;
  const tooLarge = { status: 413, body: ENVELOPE("PAYLOAD_TOO_LARGE") };
  // With Expect: the answer comes without 100 Continue, and no byte of the body is sent.
  const refused = await expectingContinue(head("/api/auth/login", 10_000_000, "Expect: 100-continue\r\n"), "");
  expect(refused).toMatch(/^HTTP\/1\.1 413 /);
  expect(parse(refused)).toMatchObject(tooLarge);
  // /graphql's cap is 100 kB, answered in GraphQL's shape.
  const graphql = await expectingContinue(head("/graphql", 100_001, "Expect: 100-continue\r\n"), "");
  expect(graphql).toMatch(/^HTTP\/1\.1 413 /);
  expect(parse(graphql).body).toMatchObject({ errors: [{ extensions: { code: "PAYLOAD_TOO_LARGE" } }] });
  // Without: the answer comes while the body is still being sent (REST's 100 kB, the webhook's 64 kB).
  for (const [path, length] of [
    ["/api/auth/login", 100_001],
    ["/api/webhook/payments/mock", 65_537],
  ] as const)
    expect([path, await firstAnswers(`${head(path, length)}{"a":"`, 1)]).toMatchObject([path, [tooLarge]]);
});

test("a small form body of many parts is VALIDATION_FAILED; a chunked body past the cap says the cap", async () => {
  // Fails on the code before: 413 PAYLOAD_TOO_LARGE for 1,040 bytes, and "The request body is too large."
  const form = `tenant=demo&login=nobody%40x&password=x${"&".repeat(999)}`;
  const many = await firstAnswers(
    "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
      `Content-Length: ${form.length}\r\n\r\n${form}`,
    1,
  );
  expect(many).toMatchObject([
    {
      status: 400,
      body: {
        error: {
          code: "VALIDATION_FAILED",
          message: "The form body has more than 1,000 parameters.",
          details: { reason: "TOO_MANY_PARAMETERS" },
        },
      },
    },
  ]);
  const chunk = `{"a":"${"x".repeat(100_000)}"}`;
  const chunked = await firstAnswers(
    "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
      `${chunk.length.toString(16)}\r\n${chunk}\r\n0\r\n\r\n`,
    1,
  );
  expect(chunked).toMatchObject([
    { status: 413, body: { error: { code: "PAYLOAD_TOO_LARGE", message: "The request body is over 100000 bytes." } } },
  ]);
});
