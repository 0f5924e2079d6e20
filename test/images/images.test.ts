/** Image upload and serving: content-addressed, deduplicated, sniffed, size-limited. */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import request from "supertest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestUser } from "../helpers/fixtures.ts";
import { CREATE_EVENT, inMinutes } from "../events/helpers.ts";

const MAX_BYTES = 4096;
const uploads = mkdtempSync(join(tmpdir(), "tessera-images-"));
let app: TestApp;
let manager: TestUser;
let member: TestUser;

beforeAll(async () => {
  app = await startTestApp({ env: { IMAGE_UPLOAD_PATH: uploads, IMAGE_MAX_BYTES: String(MAX_BYTES) } });
  const tenant = await createTenant(app.db.ownerPool, "pictures");
  manager = await createUser(app.db.ownerPool, tenant, "manager");
  member = await createUser(app.db.ownerPool, tenant, "member");
});
afterAll(async () => {
  await app.stop();
  rmSync(uploads, { recursive: true, force: true });
});

const png = (fill: number, length = 200) => Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(length, fill)]);
const upload = (token: string | undefined, bytes: Buffer, filename = "picture.png") => {
  const call = request(app.url).post("/api/images");
  return (token ? call.set("Authorization", `Bearer ${token}`) : call).attach("file", bytes, { filename, contentType: "image/png" });
};
const storedFiles = () => readdirSync(uploads, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => entry.name);

test("an upload is stored once under its SHA-256, sharded, and served with ETag and immutable caching", async () => {
  const first = await upload(manager.token, png(1));
  expect(first.status).toBe(201);
  expect(first.body).toEqual({ hash: expect.stringMatching(/^[0-9a-f]{64}$/), url: `/api/images/${first.body.hash}`, contentType: "image/png", size: 208 });
  const again = await upload(manager.token, png(1), "other-name.png");
  expect([again.status, again.body.hash]).toEqual([200, first.body.hash]);
  expect(storedFiles()).toEqual([first.body.hash]);
  expect(readdirSync(join(uploads, first.body.hash.slice(0, 2), first.body.hash.slice(2, 4)))).toEqual([first.body.hash]);

  const served = await request(app.url).get(first.body.url).buffer(true).parse((res, done) => {
    const chunks: Buffer[] = [];
    res.on("data", (chunk: Buffer) => chunks.push(chunk));
    res.on("end", () => done(null, Buffer.concat(chunks)));
  });
  expect(served.status).toBe(200);
  expect(served.headers).toMatchObject({ "content-type": "image/png", etag: `"${first.body.hash}"`, "cache-control": "public, max-age=31536000, immutable" });
  expect(Buffer.compare(served.body as Buffer, png(1))).toBe(0);
  const cached = await request(app.url).get(first.body.url).set("If-None-Match", `"${first.body.hash}"`);
  expect(cached.status).toBe(304);
  const missing = await request(app.url).get(`/api/images/${"0".repeat(64)}`);
  expect([missing.status, missing.body.error.code]).toEqual([404, "NOT_FOUND"]);

  // The stored image can illustrate an event.
  const event = await app.graphql(CREATE_EVENT, { input: { name: "With picture", startsAt: inMinutes(60), endsAt: inMinutes(120), image: first.body.url } }, manager.token);
  expect(event.body.errors).toBeUndefined();
});

test("bad uploads get their documented codes and leave nothing behind", async () => {
  const before = storedFiles();
  const text = await upload(manager.token, Buffer.from("this is not an image at all"), "notes.png");
  expect([text.status, text.body.error.code]).toEqual([415, "UNSUPPORTED_MEDIA_TYPE"]);
  const large = await upload(manager.token, png(2, MAX_BYTES + 100));
  expect([large.status, large.body.error.code]).toEqual([413, "PAYLOAD_TOO_LARGE"]);
  const json = await request(app.url).post("/api/images").set("Authorization", `Bearer ${manager.token}`).send({ file: "x" });
  expect([json.status, json.body.error.code]).toEqual([415, "UNSUPPORTED_MEDIA_TYPE"]);
  const noFile = await request(app.url).post("/api/images").set("Authorization", `Bearer ${manager.token}`).field("other", "value");
  expect([noFile.status, noFile.body.error.code]).toEqual([400, "VALIDATION_FAILED"]);
  const anonymous = await upload(undefined, png(3));
  expect([anonymous.status, anonymous.body.error.code]).toEqual([401, "UNAUTHENTICATED"]);
  const forbidden = await upload(member.token, png(4));
  expect([forbidden.status, forbidden.body.error.code]).toEqual([403, "FORBIDDEN"]);
  expect(storedFiles()).toEqual(before);
});
