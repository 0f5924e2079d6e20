/**
 * No request, socket or job may bring the process down. `npm start`'s entry point runs as a child
 * process (API, in-process worker) against this file's database, so that a crash is seen as what
 * it is — the process gone — and the tests fire at it what broken or hostile clients send:
 * malformed and truncated multipart bodies, bodies cut off by a client that disconnects or
 * half-closes, oversized headers, WebSocket garbage and handshakes abandoned half-way, and jobs
 * whose payload is garbage. After each, the child must be alive and ready; at the end no
 * temporary upload may be left.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { projectRoot } from "../../src/platform/paths.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { createTenant, createUser, TEST_JWT_SECRET, type TestUser } from "../helpers/fixtures.ts";
import { freePort, waitForReady } from "../helpers/process.ts";
import { until } from "../helpers/wait.ts";

let db: TestDatabase;
let child: ChildProcess;
let output = "";
let port: number;
let manager: TestUser;
const uploads = mkdtempSync(join(tmpdir(), "tessera-safety-"));
const tmpDir = join(uploads, "tmp");

beforeAll(async () => {
  db = await createTestDatabase();
  manager = await createUser(db.ownerPool, await createTenant(db.ownerPool), "manager");
  port = await freePort();
  child = spawn(process.execPath, [join(projectRoot, "src", "cli", "start.ts")], {
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      DATABASE_URL: db.urls.ownerUrl,
      DATABASE_AUTHENTICATOR_URL: db.urls.authenticatorUrl,
      JWT_SECRET: TEST_JWT_SECRET,
      IMAGE_UPLOAD_PATH: uploads,
      IMAGE_MAX_BYTES: "65536",
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  await waitForReady(port, () => output);
}, 90_000);

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
  await db.drop();
  rmSync(uploads, { recursive: true, force: true });
});

const base = () => `http://127.0.0.1:${port}`;
const tempUploads = () => (existsSync(tmpDir) ? readdirSync(tmpDir).filter((name) => name.endsWith(".upload")) : []);

/** The child is still running and answers /ready with 200. */
async function expectAlive(): Promise<void> {
  const ready = await fetch(`${base()}/ready`).then(
    (r) => r.status,
    (error: Error) => `unreachable: ${error.message}`,
  );
  if (child.exitCode !== null || child.signalCode !== null || ready !== 200) {
    throw new Error(
      `the server is down (exit ${child.exitCode}, signal ${child.signalCode}, /ready ${ready})\n${output}`,
    );
  }
}

/** A raw TCP client: what a broken or hostile HTTP client can do that fetch will not. */
class RawClient {
  socket: Socket;
  received = "";
  closed = false;
  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => (this.received += chunk.toString("latin1")));
    socket.on("close", () => (this.closed = true));
    socket.on("error", () => undefined);
  }
  static async open(): Promise<RawClient> {
    const socket = connect(port, "127.0.0.1");
    const client = new RawClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    return client;
  }
  /** Resolves once the bytes are handed to the kernel. */
  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, (error) => (error ? reject(error) : resolve())));
  }
  async waitForClose(what: string): Promise<void> {
    try {
      await until(() => this.closed, what);
    } finally {
      this.socket.destroy();
    }
  }
}

const PNG_START = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const filePart = (field = "file") =>
  Buffer.concat([
    Buffer.from(
      `--XB\r\nContent-Disposition: form-data; name="${field}"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`,
    ),
    PNG_START,
    Buffer.from("0123456789abcdef"),
  ]);

describe("malformed multipart on /api/images is 400 VALIDATION_FAILED and leaves the process unharmed", () => {
  const bodies: Array<[string, string, Buffer | string]> = [
    ["cut off inside the file", "multipart/form-data; boundary=XB", filePart()],
    ["cut off inside a field other than file", "multipart/form-data; boundary=XB", filePart("other")],
    [
      "a boundary that never occurs",
      "multipart/form-data; boundary=XB",
      Buffer.concat([Buffer.from("--ZZ"), filePart().subarray(4), Buffer.from("\r\n--ZZ--\r\n")]),
    ],
    ["no boundary", "multipart/form-data", filePart()],
    ["an empty boundary", "multipart/form-data; boundary=", filePart()],
    [
      "part headers only",
      "multipart/form-data; boundary=XB",
      `--XB\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n`,
    ],
    [
      "a huge part header",
      "multipart/form-data; boundary=XB",
      `--XB\r\nContent-Disposition: form-data; name="file"; ` +
        `filename="a.png"\r\nX-Pad: ${"a".repeat(64 * 1024)}\r\n\r\n\x89PNG\r\n--XB--\r\n`,
    ],
    ["the closing boundary alone", "multipart/form-data; boundary=XB", "--XB--\r\n"],
  ];
  test.each(bodies)("%s", async (_name, contentType, body) => {
    const response = await fetch(`${base()}/api/images`, {
      method: "POST",
      headers: { authorization: `Bearer ${manager.token}`, "content-type": contentType },
      body,
    }).then(
      async (r) => ({ status: r.status, code: ((await r.json()) as { error?: { code?: string } }).error?.code }),
      (error: Error) => ({ status: 0, code: error.message }),
    );
    await expectAlive();
    expect(response).toEqual({ status: 400, code: "VALIDATION_FAILED" });
  });
});

describe("request bodies cut off by the client", () => {
  const partial: Array<[string, string, string | Buffer]> = [
    ["/api/images", "multipart/form-data; boundary=XB", filePart()],
    ["/api/auth/login", "application/json", '{"tenant":"demo","login":"owner@demo.test","pass'],
    ["/graphql", "application/json", '{"query":"{ currentUser { email } }","variab'],
  ];
  const head = (path: string, contentType: string, length: number) =>
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${manager.token}\r\nAccept: ` +
    `application/json\r\nContent-Type: ${contentType}\r\nContent-Length: ${length}\r\n\r\n`;

  test.each(partial)(
    "%s: Content-Length larger than what is sent, then the connection is destroyed",
    async (path, contentType, body) => {
      const client = await RawClient.open();
      await client.write(head(path, contentType, body.length + 100_000));
      await client.write(body);
      // The upload is under way: its temporary file exists.
      if (path === "/api/images") await until(() => tempUploads().length > 0, "the upload's temporary file");
      client.socket.destroy();
      await expectAlive();
      if (path === "/api/images")
        await until(() => tempUploads().length === 0, "the upload's temporary file to be removed");
    },
  );

  test.each(partial)(
    "%s: the client half-closes (socket.end()) after part of the body",
    async (path, contentType, body) => {
      const client = await RawClient.open();
      await client.write(head(path, contentType, body.length + 100_000));
      await client.write(body);
      if (path === "/api/images") await until(() => tempUploads().length > 0, "the upload's temporary file");
      client.socket.end();
      await client.waitForClose("the server to close the half-closed connection");
      await expectAlive();
      if (path === "/api/images")
        await until(() => tempUploads().length === 0, "the upload's temporary file to be removed");
    },
  );

  test.each(["/api/images", "/api/auth/login", "/graphql"])(
    "%s: the client half-closes inside the request headers",
    async (path) => {
      const client = await RawClient.open();
      await client.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-da`);
      client.socket.end();
      await client.waitForClose("the server to close the half-closed connection");
      await expectAlive();
    },
  );

  test("request headers larger than the server accepts are refused with 431", async () => {
    const client = await RawClient.open();
    await client
      .write(`GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ${"a".repeat(128 * 1024)}\r\n\r\n`)
      .catch(() => undefined);
    await client.waitForClose("the server to refuse the headers");
    expect(client.received).toMatch(/^HTTP\/1\.1 431/);
    await expectAlive();
  });
});

describe("WebSockets", () => {
  const upgrade = (key = "dGhlIHNhbXBsZSBub25jZQ==") =>
    `GET /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: ` +
    `Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ` +
    `graphql-transport-ws\r\n\r\n`;

  test.each([
    ["text that is not JSON", "{{{ not json"],
    ["a message of an unknown type", JSON.stringify({ type: "no-such-type", id: 1 })],
    ["binary garbage", Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x81])],
  ])("a client sending %s is closed, the process stays", async (_name, message) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/graphql`, "graphql-transport-ws");
    ws.on("error", () => undefined);
    let code: number | undefined;
    ws.on("close", (closeCode) => (code = closeCode));
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    ws.send(message);
    await until(() => code !== undefined, "the server to close the WebSocket");
    expect(code).toBeGreaterThanOrEqual(4000);
    await expectAlive();
  });

  test(
    "invalid frames after the handshake (unmasked, reserved bits, bogus length) " + "are a protocol error, not a crash",
    async () => {
      const client = await RawClient.open();
      await client.write(upgrade());
      await until(() => client.received.includes("\r\n\r\n"), "the 101 answer");
      expect(client.received).toMatch(/^HTTP\/1\.1 101/);
      await client.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x01, 0x02]));
      await client.waitForClose("the server to drop the socket");
      await expectAlive();
    },
  );

  test("handshakes abandoned half-way: inside the headers, right after them, and half-closed", async () => {
    const cut = await RawClient.open();
    await cut.write(upgrade().slice(0, 60));
    cut.socket.destroy();

    const gone = await RawClient.open();
    await gone.write(upgrade());
    gone.socket.destroy();

    const halfClosed = await RawClient.open();
    await halfClosed.write(upgrade().slice(0, 90));
    halfClosed.socket.end();
    await halfClosed.waitForClose("the server to close the half-closed handshake");

    const afterOpen = await RawClient.open();
    await afterOpen.write(upgrade());
    await until(() => afterOpen.received.includes("\r\n\r\n"), "the 101 answer");
    afterOpen.socket.end();
    await afterOpen.waitForClose("the server to close the half-closed WebSocket");

    const wrongPath = await RawClient.open();
    await wrongPath.write(upgrade().replace("/graphql", "/api/images"));
    await wrongPath.waitForClose("the server to refuse an upgrade elsewhere");
    await expectAlive();
  });
});

test("jobs whose payload is garbage are run without harming the process", async () => {
  const { rows } = await db.ownerPool.query<{ id: string }>(
    `select id from graphile_worker.add_job(
       'send_email', '{"template": 42, "to": {"not": "a list"}}'::json, max_attempts => 1
     )
     union all
     select id from graphile_worker.add_job('domain_event', '"just a string"'::json, max_attempts => 1)`,
  );
  // Run: gone (nothing to do) or failed once and unlocked (its only attempt used).
  await until(
    async () => {
      const { rows: pending } = await db.ownerPool.query(
        "select 1 from graphile_worker._private_jobs where id = any($1::bigint[]) and (attempts = 0 or " +
          "locked_at is not null)",
        [rows.map((row) => row.id)],
      );
      return pending.length === 0;
    },
    "the worker to run both jobs",
    30_000,
  );
  await expectAlive();
});

test("afterwards: alive, ready, uploads still work, and no temporary upload is left", async () => {
  const form = new FormData();
  form.append("file", new Blob([Buffer.concat([PNG_START, Buffer.alloc(100, 5)])], { type: "image/png" }), "ok.png");
  const response = await fetch(`${base()}/api/images`, {
    method: "POST",
    headers: { authorization: `Bearer ${manager.token}` },
    body: form,
  });
  expect(response.status).toBe(201);
  await expectAlive();
  await until(() => tempUploads().length === 0, "no temporary upload to be left");
  expect(output).not.toMatch(/uncaught|unhandled/i);
});
