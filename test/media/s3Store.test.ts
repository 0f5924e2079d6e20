/**
 * What the S3 store is for, and how it fails: API instances sharing one bucket serve each other's
 * uploads (instances on their own disks cannot); a store that is down or refuses us answers 503
 * SERVICE_UNAVAILABLE and leaves nothing half-written — no temporary file, no record, no object —
 * and the failure is logged without the secret key. The upload and serving suites run against
 * this store too (images.test.ts, uploadLimits.test.ts).
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import request from "supertest";
import { loadConfig, MODULES } from "../../src/modules/index.ts";
import { mediaConfig } from "../../src/modules/media/config.ts";
import { s3ImageStorage } from "../../src/modules/media/s3Storage.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { createTesseraServer } from "../../src/platform/server.ts";
import { TEST_JWT_SECRET } from "../helpers/fixtures.ts";
import { closedEndpoint } from "../helpers/s3Server.ts";
import {
  app,
  appLog,
  fetchBytes,
  keyOf,
  MAX_BYTES,
  manager,
  png,
  s3,
  tempFiles,
  upload,
  useImageApp,
} from "./imageApp.ts";

useImageApp("s3");

/** Another API instance over this suite's database (a second replica), with an upload path of its own. */
async function startInstance(env: Record<string, string>, logLines?: string[]) {
  const uploadPath = mkdtempSync(join(tmpdir(), "tessera-instance-"));
  const loaded = loadConfig({
    APP_ENV: "test",
    JWT_SECRET: TEST_JWT_SECRET,
    IMAGE_UPLOAD_PATH: uploadPath,
    IMAGE_MAX_BYTES: String(MAX_BYTES),
    ...env,
  });
  const logger = logLines
    ? createLogger("debug", "tessera", { write: (line: string) => void logLines.push(line) })
    : createLogger("silent");
  const server = await createTesseraServer({
    modules: MODULES,
    config: { ...loaded, database: app.db.urls },
    database: app.db.urls,
    logger,
  });
  await new Promise<void>((resolve) => server.httpServer.listen(0, "127.0.0.1", resolve));
  const { port } = server.httpServer.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    uploadPath,
    async stop() {
      await server.close();
      rmSync(uploadPath, { recursive: true, force: true });
    },
  };
}

const recordsOf = async (bytes: Buffer) => {
  const hash = createHash("sha256").update(bytes).digest("hex");
  const { rows } = await app.db.ownerPool.query("select id from app_public.images where sha256 = $1", [hash]);
  return rows;
};

test("API instances sharing one bucket serve each other's uploads; an instance on its own disk cannot", async () => {
  const otherLog: string[] = [];
  const other = await startInstance(s3!.env, otherLog);
  const ownDisk = await startInstance({});
  try {
    const before = await s3!.keys();
    const here = await upload(manager.token, png(21));
    // The largest accepted image: served whole, its size from the store's ranged answer.
    const there = await upload(manager.token, png(22, MAX_BYTES - 8), "large.png", other.url);
    // A refused upload's cause is logged (a 503's as "service unavailable", at warn level): shown with
    // the failure. (A 503 was seen here once, in one of two full suites run at once: likely an upload
    // sent on a kept-alive connection the store had just closed, which is now sent again; see the last test.)
    const errors = [...appLog, ...otherLog].filter((line) => {
      const { level, msg } = JSON.parse(line) as { level: number; msg: string };
      return level >= 50 || msg === "service unavailable";
    });
    expect([here.status, there.status, ...errors]).toEqual([201, 201]);
    for (const url of [app.url, other.url]) {
      for (const [image, bytes] of [
        [here, png(21)],
        [there, png(22, MAX_BYTES - 8)],
      ] as const) {
        const served = await fetchBytes(image.body.url, url);
        expect([served.status, served.headers["content-length"], served.headers["content-type"]]).toEqual([
          200,
          String(bytes.length),
          "image/png",
        ]);
        expect(Buffer.compare(served.body as Buffer, bytes)).toBe(0);
      }
    }
    // The same bytes through the other instance: this tenant's record again, the bytes stored once.
    const again = await upload(manager.token, png(21), "again.png", other.url);
    expect([again.status, again.body.id]).toEqual([200, here.body.id]);
    expect(await s3!.keys()).toEqual([...before, keyOf(here.body.hash), keyOf(there.body.hash)].sort());
    // On its own disk an instance sees the record (same database) but has no bytes: why the S3 store exists.
    const missing = await request(ownDisk.url).get(here.body.url);
    expect([missing.status, missing.body.error?.code]).toEqual([404, "NOT_FOUND"]);
  } finally {
    await other.stop();
    await ownDisk.stop();
  }
});

test(
  "a store that cannot be reached: an upload is 503 SERVICE_UNAVAILABLE with Retry-After and leaves no temporary " +
    "file, no record and no object; serving is 503; the process keeps answering and logs no secret",
  async () => {
    const secret = randomBytes(30).toString("base64url");
    const logLines: string[] = [];
    const down = await startInstance(
      { ...s3!.env, S3_ENDPOINT: await closedEndpoint(), S3_SECRET_ACCESS_KEY: secret },
      logLines,
    );
    try {
      const stored = await upload(manager.token, png(31));
      expect(stored.status).toBe(201);
      const keys = await s3!.keys();

      const refused = await upload(manager.token, png(32), "down.png", down.url);
      expect([refused.status, refused.body.error?.code, refused.headers["retry-after"]]).toEqual([
        503,
        "SERVICE_UNAVAILABLE",
        "5",
      ]);
      expect(tempFiles(down.uploadPath)).toEqual([]);
      expect(await recordsOf(png(32))).toEqual([]);
      expect(await s3!.keys()).toEqual(keys);
      const serving = await request(down.url).get(stored.body.url);
      expect([serving.status, serving.body.error?.code]).toEqual([503, "SERVICE_UNAVAILABLE"]);

      expect((await request(down.url).get("/ready")).status).toBe(200);
      expect(logLines.filter((line) => line.includes("ECONNREFUSED"))).toHaveLength(2);
      expect(logLines.join("\n")).not.toContain(secret);
    } finally {
      await down.stop();
    }
  },
);

test(
  "a store that refuses us (unknown access key, no such bucket) is 503 too: nothing written, " + "the reason logged",
  async () => {
    const keys = await s3!.keys();
    for (const [env, reason] of [
      // HeadObject's answer has no body: the status is all it says.
      [{ S3_ACCESS_KEY_ID: "not-an-account" }, "HeadObject: Unknown (HTTP 403)"],
      [{ S3_BUCKET: "no-such-bucket" }, "PutObject: NoSuchBucket (HTTP 404)"],
    ] as const) {
      const logLines: string[] = [];
      const refusing = await startInstance({ ...s3!.env, ...env }, logLines);
      try {
        const refused = await upload(manager.token, png(41), "refused.png", refusing.url);
        expect([reason, refused.status, refused.body.error?.code]).toEqual([reason, 503, "SERVICE_UNAVAILABLE"]);
        expect(tempFiles(refusing.uploadPath)).toEqual([]);
        expect(logLines.some((line) => line.includes(reason))).toBe(true);
      } finally {
        await refusing.stop();
      }
    }
    expect(await recordsOf(png(41))).toEqual([]);
    expect(await s3!.keys()).toEqual(keys);
  },
);

test(
  "a store that accepts connections and never answers: put is SERVICE_UNAVAILABLE once it has been " +
    "silent too long",
  async () => {
    const held: Socket[] = [];
    const silent = createServer((socket) => {
      held.push(socket);
      socket.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const store = mediaConfig.of(app.config).store;
    if (store.driver !== "s3") throw new Error("this suite runs on the s3 store");
    const tempDir = mkdtempSync(join(tmpdir(), "tessera-silent-"));
    const storage = s3ImageStorage({
      ...store,
      endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
      tempDir,
      logger: createLogger("silent"),
      timeouts: { connectMs: 1_000, idleMs: 300 },
    });
    try {
      const tempFile = await storage.tempPath("silent.upload");
      writeFileSync(tempFile, png(51));
      const hash = createHash("sha256").update(png(51)).digest("hex");
      // Without the idle timeout this would wait for ever (and fail by the test's own timeout).
      await expect(storage.put(hash, tempFile)).rejects.toMatchObject({ code: "SERVICE_UNAVAILABLE", status: 503 });
      // HeadObject, tried three times, each on a connection of its own; nothing is left on disk.
      expect(held).toHaveLength(3);
      expect(readdirSync(tempDir)).toEqual([]);
    } finally {
      await storage.close?.();
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
      rmSync(tempDir, { recursive: true, force: true });
    }
  },
);

/**
 * A TCP proxy to the test store that closes, unanswered, the connection of each of the first
 * `drops` PUT requests as it arrives: what a store does when it closes a kept-alive connection just
 * as the client sends on it. `connections` counts the connections made to it.
 */
async function droppingProxy(target: string, drops: number) {
  const targetPort = Number(new URL(target).port);
  const sockets = new Set<Socket>();
  const counts = { connections: 0, dropped: 0 };
  const proxy = createServer((client) => {
    counts.connections += 1;
    const upstream = connect(targetPort, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => undefined);
      socket.on("close", () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on("data", (chunk: Buffer) => {
      if (counts.dropped < drops && chunk.subarray(0, 4).toString() === "PUT ") {
        counts.dropped += 1;
        client.destroy();
      } else upstream.write(chunk);
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  return {
    counts,
    endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}

test(
  "an upload whose connection the store closes as it is sent (a kept-alive connection it had just closed) " +
    "is sent again on a new one; a store that keeps doing it is 503 after three attempts",
  async () => {
    const store = mediaConfig.of(app.config).store;
    if (store.driver !== "s3") throw new Error("this suite runs on the s3 store");
    for (const [drops, fill] of [
      [1, 61],
      [10, 62],
    ] as const) {
      const proxy = await droppingProxy(s3!.endpoint, drops);
      const tempDir = mkdtempSync(join(tmpdir(), "tessera-dropped-"));
      const storage = s3ImageStorage({ ...store, endpoint: proxy.endpoint, tempDir, logger: createLogger("silent") });
      try {
        const tempFile = await storage.tempPath("dropped.upload");
        writeFileSync(tempFile, png(fill));
        const hash = createHash("sha256").update(png(fill)).digest("hex");
        if (drops === 1) {
          await expect(storage.put(hash, tempFile)).resolves.toEqual({ created: true });
          expect(await s3!.keys()).toContain(keyOf(hash));
          // The PutObject was dropped once and sent again, on a connection other than the dropped one.
          expect(proxy.counts.dropped).toBe(1);
          expect(proxy.counts.connections).toBeGreaterThanOrEqual(2);
        } else {
          await expect(storage.put(hash, tempFile)).rejects.toMatchObject({ code: "SERVICE_UNAVAILABLE", status: 503 });
          expect(await s3!.keys()).not.toContain(keyOf(hash));
          expect(proxy.counts.dropped).toBe(3);
        }
        expect(readdirSync(tempDir)).toEqual([]);
      } finally {
        await storage.close?.();
        await proxy.close();
        rmSync(tempDir, { recursive: true, force: true });
      }
    }
  },
);
