/**
 * `npm start`'s entry point as a child process (API, in-process worker) against a database of the
 * test file's own, so that a crash is seen as what it is — the process gone. `useChildServer()`
 * starts it before the file's tests and stops it after; the exported bindings are live (set in
 * beforeAll). `expectAlive()` checks it after each attack; `RawClient` sends what fetch will not.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../../../src/platform/paths.ts";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import { createTenant, createUser, TEST_JWT_SECRET, type TestUser } from "../../helpers/fixtures.ts";
import { png } from "../../helpers/images.ts";
import { freePort, waitForReady } from "../../helpers/process.ts";
import { until } from "../../helpers/wait.ts";

export let db: TestDatabase;
let child: ChildProcess;
export let output = "";
export let port: number;
export let manager: TestUser;
const uploads = mkdtempSync(join(tmpdir(), "tessera-safety-"));
const tmpDir = join(uploads, "tmp");

export function useChildServer(): void {
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
}

export const base = () => `http://127.0.0.1:${port}`;
export const tempUploads = () =>
  existsSync(tmpDir) ? readdirSync(tmpDir).filter((name) => name.endsWith(".upload")) : [];

/** The child is still running and answers /ready with 200. */
export async function expectAlive(): Promise<void> {
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
export class RawClient {
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

/** The first bytes of a PNG: a part that starts so is read as one. */
export const PNG_START = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The closing check of a file: the child survived everything, still takes uploads, logged no crash. */
export function testAfterwards(): void {
  test("afterwards: alive, ready, uploads still work, and no temporary upload is left", async () => {
    const form = new FormData();
    form.append("file", new Blob([png(5)], { type: "image/png" }), "ok.png");
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
}
