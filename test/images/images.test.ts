/**
 * Image upload and serving: per-tenant records with unguessable ids over a content-addressed,
 * deduplicated store; sniffed, size-limited; a broken or abandoned upload is a 4xx and leaves no
 * temporary file.
 */
import { connect } from "node:net";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import request from "supertest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestUser } from "../helpers/fixtures.ts";
import { asVisitor } from "../helpers/roles.ts";
import { until } from "../helpers/wait.ts";
import { CREATE_EVENT, inMinutes } from "../events/helpers.ts";
import { localImageStorage } from "../../src/modules/media/storage.ts";
import { imageRoutes } from "../../src/modules/media/rest.ts";

const MAX_BYTES = 4096;
const uploads = mkdtempSync(join(tmpdir(), "tessera-images-"));
const tmpDir = join(uploads, "tmp");
let app: TestApp;
let manager: TestUser;
let member: TestUser;
let otherManager: TestUser;

beforeAll(async () => {
  app = await startTestApp({ env: { IMAGE_UPLOAD_PATH: uploads, IMAGE_MAX_BYTES: String(MAX_BYTES) } });
  const tenant = await createTenant(app.db.ownerPool, "pictures");
  manager = await createUser(app.db.ownerPool, tenant, "manager");
  member = await createUser(app.db.ownerPool, tenant, "member");
  otherManager = await createUser(app.db.ownerPool, await createTenant(app.db.ownerPool, "other-pictures"), "manager");
});
afterAll(async () => {
  await app.stop();
  rmSync(uploads, { recursive: true, force: true });
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const png = (fill: number, length = 200) =>
  Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(length, fill)]);
const upload = (token: string | undefined, bytes: Buffer, filename = "picture.png") => {
  const call = request(app.url).post("/api/images");
  return (token ? call.set("Authorization", `Bearer ${token}`) : call).attach("file", bytes, {
    filename,
    contentType: "image/png",
  });
};
const storedFiles = () =>
  readdirSync(uploads, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name);
const tempFiles = () => (existsSync(tmpDir) ? readdirSync(tmpDir) : []);
const fetchBytes = (path: string) =>
  request(app.url)
    .get(path)
    .buffer(true)
    .parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => done(null, Buffer.concat(chunks)));
    });

test(
  "an upload is recorded for the tenant under an unguessable id, stored once by SHA-256, and served with ETag " +
    "and immutable caching",
  async () => {
    const first = await upload(manager.token, png(1));
    expect(first.status).toBe(201);
    expect(first.body).toEqual({
      id: expect.stringMatching(UUID),
      url: `/api/images/${first.body.id}`,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      contentType: "image/png",
      size: 208,
    });
    const again = await upload(manager.token, png(1), "other-name.png");
    expect([again.status, again.body.id, again.body.url]).toEqual([200, first.body.id, first.body.url]);
    expect(storedFiles()).toEqual([first.body.hash]);
    expect(readdirSync(join(uploads, first.body.hash.slice(0, 2), first.body.hash.slice(2, 4)))).toEqual([
      first.body.hash,
    ]);
    const { rows } = await app.db.ownerPool.query(
      "select tenant_id, sha256, content_type, size, uploaded_by from app_public.images where id = $1",
      [first.body.id],
    );
    expect(rows).toEqual([
      {
        tenant_id: manager.tenantId,
        sha256: first.body.hash,
        content_type: "image/png",
        size: 208,
        uploaded_by: manager.id,
      },
    ]);

    const served = await fetchBytes(first.body.url);
    expect(served.status).toBe(200);
    expect(served.headers).toMatchObject({
      "content-type": "image/png",
      etag: `"${first.body.id}"`,
      "cache-control": "public, max-age=31536000, immutable",
      "x-content-type-options": "nosniff",
    });
    expect(Buffer.compare(served.body as Buffer, png(1))).toBe(0);
    const cached = await request(app.url).get(first.body.url).set("If-None-Match", `"${first.body.id}"`);
    expect(cached.status).toBe(304);
    const missing = await request(app.url).get("/api/images/00000000-0000-4000-8000-000000000000");
    expect([missing.status, missing.body.error.code]).toEqual([404, "NOT_FOUND"]);

    // The stored image can illustrate an event.
    const event = await app.graphql(
      CREATE_EVENT,
      { input: { name: "With picture", startsAt: inMinutes(60), endsAt: inMinutes(120), image: first.body.url } },
      manager.token,
    );
    expect(event.body.errors).toBeUndefined();
  },
);

test(
  "tenants cannot learn about each other's images: the same bytes are a new record (201) with its own URL, " +
    "the hash URL serves nothing, rows are visible to their tenant only",
  async () => {
    const mine = await upload(manager.token, png(7));
    expect(mine.status).toBe(201);
    // Another tenant uploading the same bytes cannot tell that they were here already.
    const theirs = await upload(otherManager.token, png(7));
    expect(theirs.status).toBe(201);
    expect(theirs.body.id).not.toBe(mine.body.id);
    expect(theirs.body.url).toBe(`/api/images/${theirs.body.id}`);
    expect((await upload(otherManager.token, png(7))).status).toBe(200);
    // The bytes are stored once underneath.
    expect(storedFiles().filter((name) => name === mine.body.hash)).toHaveLength(1);
    // Each URL serves the image; the content hash is no longer a URL.
    for (const url of [mine.body.url, theirs.body.url])
      expect(Buffer.compare((await fetchBytes(url)).body as Buffer, png(7))).toBe(0);
    const byHash = await request(app.url).get(`/api/images/${mine.body.hash}`);
    expect([byHash.status, byHash.body.error.code]).toEqual([404, "NOT_FOUND"]);
    // Row-level security: a tenant's session sees its own records only.
    const visible = (sessionId: string) =>
      asVisitor(app.db.rootPool, app.db.urls.visitorRole, async (client) => {
        await client.query("select set_config('jwt.claims.session_id', $1, true)", [sessionId]);
        const { rows } = await client.query<{ id: string }>("select id from app_public.images where sha256 = $1", [
          mine.body.hash,
        ]);
        return rows.map((row) => row.id);
      });
    expect(await visible(manager.sessionId)).toEqual([mine.body.id]);
    expect(await visible(otherManager.sessionId)).toEqual([theirs.body.id]);
    // An event cannot link an image by its hash any more.
    const event = await app.graphql(
      CREATE_EVENT,
      {
        input: {
          name: "Hash link",
          startsAt: inMinutes(60),
          endsAt: inMinutes(120),
          image: `/api/images/${mine.body.hash}`,
        },
      },
      manager.token,
    );
    expect(event.body.errors).toBeDefined();
  },
);

test(
  "the same bytes uploaded by one tenant in parallel make one record: " + "one 201, the rest 200 with its id",
  async () => {
    const answers = await Promise.all(Array.from({ length: 6 }, () => upload(manager.token, png(42))));
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1);
    const { rows } = await app.db.ownerPool.query(
      "select count(*)::int as n from app_public.images where sha256 = $1",
      [answers[0]!.body.hash],
    );
    expect(rows).toEqual([{ n: 1 }]);
  },
);

test("bad uploads get their documented codes and leave nothing behind", async () => {
  const before = storedFiles();
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
  expect(storedFiles()).toEqual(before);
});

test("a file of exactly IMAGE_MAX_BYTES is accepted; one byte more is 413", async () => {
  const exact = await upload(manager.token, png(5, MAX_BYTES - 8));
  expect([exact.status, exact.body.size]).toEqual([201, MAX_BYTES]);
  const over = await upload(manager.token, png(6, MAX_BYTES - 7));
  expect([over.status, over.body.error?.code]).toEqual([413, "PAYLOAD_TOO_LARGE"]);
  expect(tempFiles()).toEqual([]);
});

test("an upload with a Content-Encoding other than identity is 415 and stores nothing", async () => {
  const before = storedFiles();
  for (const encoding of ["gzip", "x-made-up", "identity, gzip"]) {
    const response = await upload(manager.token, png(11)).set("Content-Encoding", encoding);
    expect([encoding, response.status, response.body.error?.code]).toEqual([encoding, 415, "UNSUPPORTED_MEDIA_TYPE"]);
  }
  expect(storedFiles()).toEqual(before);
  expect(tempFiles()).toEqual([]);
  const plain = await upload(manager.token, png(11)).set("Content-Encoding", "identity");
  expect(plain.status).toBe(201);
});

test(
  "multipart limits: one file part, at most 10 other fields of at most 1 KiB; beyond is 400 VALIDATION_FAILED " +
    "naming the limit",
  async () => {
    const before = storedFiles();
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
    expect(storedFiles()).toEqual(before);
    expect(tempFiles()).toEqual([]);

    // At the limits: 10 fields of 1 KiB and the file.
    const atLimits = await withFields(10, "x".repeat(1024)).attach("file", png(12), "a.png");
    expect(atLimits.status).toBe(201);
  },
);

const truncated = (field: string) =>
  Buffer.concat([
    Buffer.from(
      `--XB\r\nContent-Disposition: form-data; name="${field}"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`,
    ),
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    Buffer.from("0123456789abcdef"),
  ]);

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

test(
  "temporary uploads left by a dead process are swept when the routes start; " + "recent ones are left alone",
  async () => {
    const root = mkdtempSync(join(tmpdir(), "tessera-sweep-"));
    try {
      mkdirSync(join(root, "tmp"));
      const stale = join(root, "tmp", "stale.upload");
      const recent = join(root, "tmp", "recent.upload");
      writeFileSync(stale, "partial");
      writeFileSync(recent, "in progress");
      // A day untouched: far beyond the sweep threshold (an hour).
      const old = new Date(Date.now() - 24 * 3600_000);
      utimesSync(stale, old, old);
      imageRoutes({ storage: localImageStorage(root), maxBytes: MAX_BYTES, pool: app.db.ownerPool });
      await until(() => !existsSync(stale), "the stale upload to be swept");
      expect(readdirSync(join(root, "tmp"))).toEqual(["recent.upload"]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
);
