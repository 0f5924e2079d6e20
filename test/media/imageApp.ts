/**
 * The server the image tests upload to: IMAGE_MAX_BYTES of 4096, uploads in a directory of the test
 * file's own, a manager and a member of one tenant and a manager of another. `useImageApp()` starts
 * it before the file's tests and stops it after; the exported bindings are live (set in beforeAll).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import request from "supertest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestUser } from "../helpers/fixtures.ts";

export const MAX_BYTES = 4096;
export const uploads = mkdtempSync(join(tmpdir(), "tessera-images-"));
const tmpDir = join(uploads, "tmp");
export let app: TestApp;
export let manager: TestUser;
export let member: TestUser;
export let otherManager: TestUser;

export function useImageApp(): void {
  beforeAll(async () => {
    app = await startTestApp({ env: { IMAGE_UPLOAD_PATH: uploads, IMAGE_MAX_BYTES: String(MAX_BYTES) } });
    const tenant = await createTenant(app.db.ownerPool, "pictures");
    manager = await createUser(app.db.ownerPool, tenant, "manager");
    member = await createUser(app.db.ownerPool, tenant, "member");
    otherManager = await createUser(
      app.db.ownerPool,
      await createTenant(app.db.ownerPool, "other-pictures"),
      "manager",
    );
  });
  afterAll(async () => {
    await app.stop();
    rmSync(uploads, { recursive: true, force: true });
  });
}

export const png = (fill: number, length = 200) =>
  Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(length, fill)]);
export const upload = (token: string | undefined, bytes: Buffer, filename = "picture.png") => {
  const call = request(app.url).post("/api/images");
  return (token ? call.set("Authorization", `Bearer ${token}`) : call).attach("file", bytes, {
    filename,
    contentType: "image/png",
  });
};
export const storedFiles = () =>
  readdirSync(uploads, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name);
export const tempFiles = () => (existsSync(tmpDir) ? readdirSync(tmpDir) : []);
