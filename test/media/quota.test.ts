/**
 * A tenant's images stay within MEDIA_TENANT_QUOTA_BYTES: past it an upload is 413
 * STORAGE_QUOTA_EXCEEDED and nothing is recorded, bytes the tenant already has cost nothing again,
 * other tenants are not affected, and parallel uploads cannot pass it together.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import request from "supertest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestUser } from "../helpers/fixtures.ts";
import { png } from "../helpers/images.ts";

const QUOTA = 10_000;
const SIZE = 2_000;
let app: TestApp;
let uploads: string;

beforeAll(async () => {
  uploads = mkdtempSync(join(tmpdir(), "tessera-quota-"));
  app = await startTestApp({
    env: {
      IMAGE_UPLOAD_PATH: uploads,
      IMAGE_MAX_BYTES: "4096",
      MEDIA_TENANT_QUOTA_BYTES: String(QUOTA),
      // One user's 12 uploads at once race each other for the quota.
      MEDIA_UPLOADS_PER_USER: "12",
    },
  });
});
afterAll(async () => {
  await app.stop();
  rmSync(uploads, { recursive: true, force: true });
});

/** A PNG of SIZE bytes, different for each `n`. */
const image = (n: number) => png(n, SIZE - 8);
const upload = (user: TestUser, n: number) =>
  request(app.url)
    .post("/api/images")
    .set("Authorization", `Bearer ${user.token}`)
    .attach("file", image(n), { filename: "p.png", contentType: "image/png" });
const recorded = async (tenantId: string) =>
  (
    await app.db.ownerPool.query<{ count: number; bytes: number }>(
      "select count(*)::int as count, coalesce(sum(size), 0)::int as bytes from app_public.images where tenant_id = $1",
      [tenantId],
    )
  ).rows[0]!;

test("past the quota an upload is STORAGE_QUOTA_EXCEEDED; known bytes and other tenants pass", async () => {
  const tenant = await createTenant(app.db.ownerPool);
  const manager = await createUser(app.db.ownerPool, tenant, "manager");
  for (let n = 1; n <= QUOTA / SIZE; n++) expect((await upload(manager, n)).status).toBe(201);
  const over = await upload(manager, 100);
  expect([over.status, over.body.error]).toEqual([
    413,
    {
      code: "STORAGE_QUOTA_EXCEEDED",
      message: `The tenant's images would exceed its storage quota of ${QUOTA} bytes`,
      details: { quotaBytes: QUOTA, usedBytes: QUOTA, size: SIZE },
    },
  ]);
  expect(await recorded(tenant.id)).toEqual({ count: QUOTA / SIZE, bytes: QUOTA });
  // Bytes the tenant has already are its existing record: no new cost.
  expect((await upload(manager, 1)).status).toBe(200);
  // Another tenant has a quota of its own, the same bytes included.
  const other = await createUser(app.db.ownerPool, await createTenant(app.db.ownerPool), "manager");
  expect((await upload(other, 1)).status).toBe(201);
  expect((await upload(other, 100)).status).toBe(201);
});

test("parallel uploads cannot pass the quota together", async () => {
  const tenant = await createTenant(app.db.ownerPool);
  const manager = await createUser(app.db.ownerPool, tenant, "manager");
  const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => upload(manager, 1_000 + i)));
  const statuses = answers.map((answer) => answer.status).sort();
  expect(statuses).toEqual([...Array(QUOTA / SIZE).fill(201), ...Array(12 - QUOTA / SIZE).fill(413)]);
  expect(answers.filter((answer) => answer.status === 413).map((answer) => answer.body.error.code)).toEqual(
    Array(12 - QUOTA / SIZE).fill("STORAGE_QUOTA_EXCEEDED"),
  );
  expect(await recorded(tenant.id)).toEqual({ count: QUOTA / SIZE, bytes: QUOTA });
});
