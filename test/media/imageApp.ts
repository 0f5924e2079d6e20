/**
 * The server the image tests upload to: IMAGE_MAX_BYTES of 4096 (unless told), uploads in a directory of the
 * suite's own, a manager and a member of one tenant and a manager of another; the bytes on local
 * disk or in a bucket of a real S3 server (s3rver). `useImageApp(driver)` starts it before the
 * suite's tests and stops it after; the exported bindings are live (set in beforeAll).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import request from "supertest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestUser } from "../helpers/fixtures.ts";
import { startS3Server, type TestS3 } from "../helpers/s3Server.ts";

export const MAX_BYTES = 4096;
export type Driver = "local" | "s3";
/** The image suites run once per driver: `describe.each(DRIVERS)("%s store", (driver) => …)`. */
export const DRIVERS: Driver[] = ["local", "s3"];
/** IMAGE_UPLOAD_PATH: the local store, and the temporary uploads (tmp/) with either driver. */
export let uploads: string;
/** The S3 server of an s3 suite (undefined for local). */
export let s3: TestS3 | undefined;
export let app: TestApp;
export let manager: TestUser;
export let member: TestUser;
export let otherManager: TestUser;

/** The log of the suite's server (every level), to show a failed request's logged cause. */
export const appLog: string[] = [];

export function useImageApp(driver: Driver, maxBytes = MAX_BYTES): void {
  // This suite's own (the bindings may still hold an earlier suite's): stopped even if a start failed.
  let started: { app?: TestApp; s3?: TestS3 } = {};
  beforeAll(async () => {
    started = {};
    uploads = mkdtempSync(join(tmpdir(), "tessera-images-"));
    s3 = started.s3 = driver === "s3" ? await startS3Server() : undefined;
    appLog.length = 0;
    app = started.app = await startTestApp({
      logLines: appLog,
      env: { ...s3?.env, IMAGE_UPLOAD_PATH: uploads, IMAGE_MAX_BYTES: String(maxBytes) },
    });
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
    try {
      await started.app?.stop();
    } finally {
      await started.s3?.stop();
      rmSync(uploads, { recursive: true, force: true });
    }
  });
}

export { png } from "../helpers/images.ts";
export const upload = (token: string | undefined, bytes: Buffer, filename = "picture.png", url = app.url) => {
  const call = request(url).post("/api/images");
  return (token ? call.set("Authorization", `Bearer ${token}`) : call).attach("file", bytes, {
    filename,
    contentType: "image/png",
  });
};
/** GET a path of a server (this suite's by default) with the body as a Buffer. */
export const fetchBytes = (path: string, url = app.url) =>
  request(url)
    .get(path)
    .buffer(true)
    .parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => done(null, Buffer.concat(chunks)));
    });
/** The keys of the store (`ab/cd/<hash>`, sorted): the bucket's objects, or the files under the upload path. */
export const storedFiles = async (): Promise<string[]> => {
  if (s3) return s3.keys();
  return readdirSync(uploads, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(uploads, join(entry.parentPath, entry.name)))
    .filter((key) => !key.startsWith("tmp/"))
    .sort();
};
/** The temporary uploads (local disk with either driver). */
export const tempFiles = (root = uploads) => (existsSync(join(root, "tmp")) ? readdirSync(join(root, "tmp")) : []);
export const keyOf = (hash: string) => `${hash.slice(0, 2)}/${hash.slice(2, 4)}/${hash}`;
