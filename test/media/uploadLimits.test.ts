/**
 * Refused and broken image uploads: sniffed, size-limited, identity encoding only, multipart limits;
 * a broken or abandoned upload is a 4xx and leaves no temporary file, and temporary files left by a
 * dead process are swept.
 */
import { once } from "node:events";
import { type AddressInfo, connect } from "node:net";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import express from "express";
import request from "supertest";
import { createTenant, createUser } from "../helpers/fixtures.ts";
import { sendRaw } from "../helpers/rawHttp.ts";
import { until } from "../helpers/wait.ts";
import { mediaConfig } from "../../src/modules/media/config.ts";
import { imageRoutes, MULTIPART_OVERHEAD } from "../../src/modules/media/rest.ts";
import { s3ImageStorage } from "../../src/modules/media/s3Storage.ts";
import { localImageStorage } from "../../src/modules/media/storage.ts";
import { createLogger } from "../../src/platform/logger.ts";
import {
  app,
  DRIVERS,
  MAX_BYTES,
  manager,
  member,
  png,
  storedFiles,
  tempFiles,
  upload,
  useImageApp,
} from "./imageApp.ts";

/** A part holding a whole image, the body cut off before the part's end. */
const truncated = (field: string) =>
  Buffer.concat([
    Buffer.from(
      `--XB\r\nContent-Disposition: form-data; name="${field}"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`,
    ),
    png(9),
  ]);

/** The suite's driver over another root: its temporary uploads in `<root>/tmp`. */
const storageAt = (root: string) => {
  const { store } = mediaConfig.of(app.config);
  return store.driver === "s3"
    ? s3ImageStorage({ ...store, tempDir: join(root, "tmp"), logger: createLogger("silent") })
    : localImageStorage(root);
};

describe.each(DRIVERS)("%s store", (driver) => {
  useImageApp(driver);

  test("bad uploads get their documented codes and leave nothing behind", async () => {
    const before = await storedFiles();
    const text = await upload(manager.token, Buffer.from("this is not an image at all"), "notes.png");
    expect([text.status, text.body.error.code]).toEqual([415, "UNSUPPORTED_MEDIA_TYPE"]);
    const large = await upload(manager.token, png(2, MAX_BYTES + 100));
    expect([large.status, large.body.error.code]).toEqual([413, "PAYLOAD_TOO_LARGE"]);
    // Answered when the limit is crossed; the rest of a much larger body is read and dropped.
    const huge = await upload(manager.token, png(2, 128 * MAX_BYTES));
    expect([huge.status, huge.body.error.code]).toEqual([413, "PAYLOAD_TOO_LARGE"]);
    const json = await request(app.url)
      .post("/api/images")
      .set("Authorization", `Bearer ${manager.token}`)
      .send({ file: "x" });
    expect([json.status, json.body.error.code]).toEqual([415, "UNSUPPORTED_MEDIA_TYPE"]);
    const noFile = await request(app.url)
      .post("/api/images")
      .set("Authorization", `Bearer ${manager.token}`)
      .field("other", "value");
    expect([noFile.status, noFile.body.error.code]).toEqual([400, "VALIDATION_FAILED"]);
    const anonymous = await upload(undefined, png(3));
    expect([anonymous.status, anonymous.body.error.code]).toEqual([401, "UNAUTHENTICATED"]);
    const forbidden = await upload(member.token, png(4));
    expect([forbidden.status, forbidden.body.error.code]).toEqual([403, "FORBIDDEN"]);
    expect(await storedFiles()).toEqual(before);
  });

  test("a file of exactly IMAGE_MAX_BYTES is accepted; one byte more is 413", async () => {
    const exact = await upload(manager.token, png(5, MAX_BYTES - 8));
    expect([exact.status, exact.body.size]).toEqual([201, MAX_BYTES]);
    const over = await upload(manager.token, png(6, MAX_BYTES - 7));
    expect([over.status, over.body.error?.code]).toEqual([413, "PAYLOAD_TOO_LARGE"]);
    expect(tempFiles()).toEqual([]);
  });

  test("an upload declared longer than any allowed body is 413 before it is invited or read", async () => {
    // Fails on the code before the fix: the server answered 100 Continue and read 5 MiB first.
    for (const length of [MAX_BYTES + MULTIPART_OVERHEAD + 1, 10_000_000_000]) {
      const answer = await sendRaw(
        app.url,
        `POST /api/images HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${manager.token}\r\nConnection: close\r\n` +
          `Content-Type: multipart/form-data; boundary=XB\r\nExpect: 100-continue\r\nContent-Length: ${length}\r\n\r\n`,
      );
      expect({ length, head: answer.split("\r\n")[0] }).toEqual({ length, head: "HTTP/1.1 413 Payload Too Large" });
      expect(answer).toContain('"code":"PAYLOAD_TOO_LARGE"');
    }
    expect(tempFiles()).toEqual([]);
  });

  test("an upload with a Content-Encoding other than identity is 415 and stores nothing", async () => {
    const before = await storedFiles();
    for (const encoding of ["gzip", "x-made-up", "identity, gzip"]) {
      const response = await upload(manager.token, png(11)).set("Content-Encoding", encoding);
      expect([encoding, response.status, response.body.error?.code]).toEqual([encoding, 415, "UNSUPPORTED_MEDIA_TYPE"]);
    }
    expect(await storedFiles()).toEqual(before);
    expect(tempFiles()).toEqual([]);
    const plain = await upload(manager.token, png(11)).set("Content-Encoding", "identity");
    expect(plain.status).toBe(201);
  });

  test("an upload declaring a charset other than UTF-8 is 415, as any body of the API; nothing stored", async () => {
    const before = await storedFiles();
    const body = Buffer.concat([
      Buffer.from('--XB\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n'),
      png(41),
      Buffer.from("\r\n--XB--\r\n"),
    ]);
    const send = (contentType: string) =>
      request(app.url)
        .post("/api/images")
        .set("Authorization", `Bearer ${manager.token}`)
        .set("Content-Type", contentType)
        .send(body);
    for (const charset of ["koi8-r", "utf-16", '"latin1"']) {
      const refused = await send(`multipart/form-data; boundary=XB; charset=${charset}`);
      expect([charset, refused.status, refused.body.error?.code]).toEqual([charset, 415, "UNSUPPORTED_MEDIA_TYPE"]);
    }
    expect(await storedFiles()).toEqual(before);
    expect(tempFiles()).toEqual([]);
    expect((await send("multipart/form-data; boundary=XB; charset=UTF-8")).status).toBe(201);
  });

  test(
    "multipart limits: one file part, at most 10 other fields of at most 1 KiB; beyond is 400 VALIDATION_FAILED " +
      "naming the limit",
    async () => {
      const before = await storedFiles();
      const post = () => request(app.url).post("/api/images").set("Authorization", `Bearer ${manager.token}`);
      const withFields = (count: number, value = "v") => {
        let call = post();
        for (let i = 0; i < count; i += 1) call = call.field(`f${i}`, value);
        return call;
      };
      const refused = (response: request.Response) => [
        response.status,
        response.body.error?.code,
        response.body.error?.details,
      ];

      const twoFiles = await post().attach("file", png(12), "a.png").attach("file", png(13), "b.png");
      expect(refused(twoFiles)).toEqual([400, "VALIDATION_FAILED", { reason: "TOO_MANY_FILES", max: 1 }]);
      const elevenFields = await withFields(11).attach("file", png(12), "a.png");
      expect(refused(elevenFields)).toEqual([400, "VALIDATION_FAILED", { reason: "TOO_MANY_FIELDS", max: 10 }]);
      const twentyFields = await withFields(20).attach("file", png(12), "a.png");
      expect(refused(twentyFields)).toEqual([400, "VALIDATION_FAILED", { reason: "TOO_MANY_FIELDS", max: 10 }]);
      expect(twentyFields.body.error.message).toContain("10 fields");
      const longField = await withFields(1, "x".repeat(1025)).attach("file", png(12), "a.png");
      expect(refused(longField)).toEqual([400, "VALIDATION_FAILED", { reason: "FIELD_TOO_LONG", max: 1024 }]);
      expect(await storedFiles()).toEqual(before);
      expect(tempFiles()).toEqual([]);

      // At the limits: 10 fields of 1 KiB and the file.
      const atLimits = await withFields(10, "x".repeat(1024)).attach("file", png(12), "a.png");
      expect(atLimits.status).toBe(201);
    },
  );

  test(
    "a multipart body cut off inside the file is 400 VALIDATION_FAILED, leaves no temporary file, and the " +
      "server keeps serving",
    async () => {
      for (const field of ["file", "other"]) {
        const response = await request(app.url)
          .post("/api/images")
          .set("Authorization", `Bearer ${manager.token}`)
          .set("Content-Type", "multipart/form-data; boundary=XB")
          .send(truncated(field));
        expect([response.status, response.body.error?.code]).toEqual([400, "VALIDATION_FAILED"]);
      }
      const noBoundary = await request(app.url)
        .post("/api/images")
        .set("Authorization", `Bearer ${manager.token}`)
        .set("Content-Type", "multipart/form-data")
        .send("--XB\r\n");
      expect([noBoundary.status, noBoundary.body.error?.code]).toEqual([400, "VALIDATION_FAILED"]);
      expect(tempFiles()).toEqual([]);
      expect((await upload(manager.token, png(9))).status).toBe(201);
    },
  );

  test("a client that goes away mid-upload leaves no temporary file", async () => {
    const { port } = new URL(app.url);
    const socket = connect(Number(port), "127.0.0.1");
    socket.on("error", () => undefined);
    await new Promise((resolve) => socket.once("connect", resolve));
    const part = truncated("file");
    socket.write(
      `POST /api/images HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${manager.token}\r\nContent-Type: ` +
        `multipart/form-data; boundary=XB\r\nContent-Length: ${part.length + 100_000}\r\n\r\n`,
    );
    socket.write(part);
    // The server has begun writing the upload to its temporary file.
    await until(() => tempFiles().length > 0, "the upload's temporary file");
    socket.destroy();
    await until(() => tempFiles().length === 0, "the temporary file to be removed");
    expect((await request(app.url).get("/ready")).status).toBe(200);
  });

  /**
   * Sends an upload's headers and the first part of its body, and waits until the server is writing
   * it to disk (past the checks made before the body); `finish` sends the rest and reads the answer.
   */
  async function startUpload(token: string): Promise<{ finish: () => Promise<string> }> {
    const filesBefore = tempFiles().length;
    const { port } = new URL(app.url);
    const socket = connect(Number(port), "127.0.0.1");
    socket.on("error", () => undefined);
    const answer = new Promise<string>((resolve) => {
      let text = "";
      socket.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
      socket.on("close", () => resolve(text));
    });
    await new Promise((resolve) => socket.once("connect", resolve));
    const part = truncated("file");
    const rest = Buffer.from("\r\n--XB--\r\n");
    socket.write(
      `POST /api/images HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n` +
        `Content-Type: multipart/form-data; boundary=XB\r\nContent-Length: ${part.length + rest.length}\r\n\r\n`,
    );
    socket.write(part);
    await until(() => tempFiles().length > filesBefore, "the upload's temporary file");
    return {
      finish: () => {
        socket.write(rest);
        return answer;
      },
    };
  }

  /** Nothing of the uploader's recorded or stored, and the temporary file gone. */
  async function expectNothingKept(uploaderId: string, storedBefore: string[]): Promise<void> {
    const { rows } = await app.db.ownerPool.query("select 1 from app_public.images where uploaded_by = $1", [
      uploaderId,
    ]);
    expect(rows).toEqual([]);
    expect(await storedFiles()).toEqual(storedBefore);
    await until(() => tempFiles().length === 0, "the temporary file to be removed");
  }

  test("one upload more than a user may have in progress is 429; others' uploads go on", async () => {
    const tenant = await createTenant(app.db.ownerPool);
    const uploader = await createUser(app.db.ownerPool, tenant, "manager");
    const colleague = await createUser(app.db.ownerPool, tenant, "manager");
    const { uploadsPerUser } = mediaConfig.of(app.config);
    const inProgress = [];
    for (let i = 0; i < uploadsPerUser; i++) inProgress.push(await startUpload(uploader.token));
    const refused = await upload(uploader.token, png(61));
    expect([refused.status, refused.headers["retry-after"], refused.body.error]).toEqual([
      429,
      "1",
      {
        code: "RATE_LIMITED",
        message: `At most ${uploadsPerUser} uploads of one user at once; wait for one to finish.`,
        details: { reason: "UPLOADS_IN_PROGRESS", max: uploadsPerUser, retryAfter: 1 },
      },
    ]);
    expect((await upload(colleague.token, png(62))).status).toBe(201);
    for (const started of inProgress) expect((await started.finish()).split("\r\n")[0]).toMatch(/^HTTP\/1.1 20[01] /);
    // Each finished upload gave its place back before it was answered; the refused one recorded nothing.
    expect((await upload(uploader.token, png(61))).status).toBe(201);
  });

  test("an upload sent whole by a client that left before it was read ends, and gives its place back", async () => {
    const tenant = await createTenant(app.db.ownerPool);
    const uploader = await createUser(app.db.ownerPool, tenant, "manager");
    const root = mkdtempSync(join(tmpdir(), "tessera-left-"));
    const storage = storageAt(root);
    const limits = { maxBytes: MAX_BYTES, maxPixels: 1_000_000, tenantQuotaBytes: 1_000_000, uploadsPerUser: 1 };
    const { upload: route } = imageRoutes({ storage, ...limits, pool: app.db.ownerPool, checkSession: async (c) => c });
    // The upload route alone, behind a step that holds the first request until its client has gone.
    const ended: unknown[] = [];
    const server = express()
      .use(async (req, _res, next) => {
        Object.assign(req, { claims: { sub: uploader.id, tid: tenant.id, sid: uploader.sessionId } });
        // (events.once would reject on the request's 'error', the reset of the connection.)
        if (req.get("x-leave") && !req.destroyed) await new Promise((resolve) => req.once("close", resolve));
        next();
      })
      .use("/api", route)
      .use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        ended.push(error);
        res.status(400).end();
      })
      .listen(0, "127.0.0.1");
    try {
      await once(server, "listening");
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const body = Buffer.concat([truncated("file"), Buffer.from("\r\n--XB--\r\n")]);
      const socket = connect(Number(new URL(url).port), "127.0.0.1");
      socket.on("error", () => undefined);
      await once(socket, "connect");
      const head =
        "POST /api/images HTTP/1.1\r\nHost: x\r\nX-Leave: 1\r\nContent-Type: multipart/form-data; boundary=XB\r\n";
      socket.write(`${head}Content-Length: ${body.length}\r\n\r\n`);
      await new Promise((resolve) => socket.write(body, resolve));
      socket.destroy();
      // Before the fix the route waited for the rest of a body it would never read: it never ended,
      // and its user could not upload again until the process restarted.
      await until(() => ended.length === 1, "the upload of the client that left to end");
      expect(ended[0]).toMatchObject({ code: "VALIDATION_FAILED", message: "The upload was cut off before its end." });
      const next = await upload(uploader.token, png(71), "again.png", url);
      expect(next.status).toBe(201);
      expect(tempFiles(root)).toEqual([]);
    } finally {
      server.close();
      await storage.close?.();
      rmSync(root, { recursive: true, force: true });
    }
  });

  test("a session that ends while the body arrives: 401, and nothing stored or recorded", async () => {
    const uploader = await createUser(app.db.ownerPool, await createTenant(app.db.ownerPool), "manager");
    const before = await storedFiles();
    const upload = await startUpload(uploader.token);
    const logout = await request(app.url)
      .post("/graphql")
      .set("Authorization", `Bearer ${uploader.token}`)
      .send({ query: "mutation { logout { success } }" });
    expect(logout.body).toEqual({ data: { logout: { success: true } } });
    const response = await upload.finish();
    expect(response.split("\r\n")[0]).toBe("HTTP/1.1 401 Unauthorized");
    expect(response).toContain('"code":"UNAUTHENTICATED"');
    await expectNothingKept(uploader.id, before);
  });

  test("media switched off while the body arrives: 403, and nothing stored or recorded", async () => {
    // Fails on the code before the fix: the module was checked only before the body, and the upload got 201.
    const tenant = await createTenant(app.db.ownerPool);
    const uploader = await createUser(app.db.ownerPool, tenant, "manager");
    const owner = await createUser(app.db.ownerPool, tenant, "owner");
    const before = await storedFiles();
    const upload = await startUpload(uploader.token);
    const off = await request(app.url)
      .post("/graphql")
      .set("Authorization", `Bearer ${owner.token}`)
      .send({ query: 'mutation { setTenantModule(input: { module: "media", enabled: false }) { clientMutationId } }' });
    expect(off.body.errors).toBeUndefined();
    const response = await upload.finish();
    expect(response.split("\r\n")[0]).toBe("HTTP/1.1 403 Forbidden");
    expect(response).toContain('"code":"FORBIDDEN"');
    await expectNothingKept(uploader.id, before);
  });

  test(
    "temporary uploads left by a dead process are swept when the routes start; " + "recent ones are left alone",
    async () => {
      const root = mkdtempSync(join(tmpdir(), "tessera-sweep-"));
      const storage = storageAt(root);
      try {
        mkdirSync(join(root, "tmp"));
        const stale = join(root, "tmp", "stale.upload");
        const recent = join(root, "tmp", "recent.upload");
        writeFileSync(stale, "partial");
        writeFileSync(recent, "in progress");
        // A day untouched: far beyond the sweep threshold (an hour).
        const old = new Date(Date.now() - 24 * 3600_000);
        utimesSync(stale, old, old);
        // The routes are only made here, never called: no session is checked.
        const checkSession = () => Promise.reject(new Error("no upload is sent in this test"));
        const limits = { maxBytes: MAX_BYTES, maxPixels: 1_000_000, tenantQuotaBytes: 1024, uploadsPerUser: 1 };
        imageRoutes({ storage, ...limits, pool: app.db.ownerPool, checkSession });
        await until(() => !existsSync(stale), "the stale upload to be swept");
        expect(readdirSync(join(root, "tmp"))).toEqual(["recent.upload"]);
      } finally {
        await storage.close?.();
        rmSync(root, { recursive: true, force: true });
      }
    },
  );
});
