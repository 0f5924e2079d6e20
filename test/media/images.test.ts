/**
 * Image upload and serving: per-tenant records with unguessable ids over a content-addressed,
 * deduplicated store, served with ETag and immutable caching. Refused and broken uploads are in
 * test/media/uploadLimits.test.ts.
 */
import request from "supertest";
import { asVisitor } from "../helpers/roles.ts";
import { CREATE_EVENT, inMinutes } from "../events/helpers.ts";
import { connect } from "node:net";
import { mediaConfig } from "../../src/modules/media/config.ts";
import {
  app,
  appLog,
  DRIVERS,
  fetchBytes,
  keyOf,
  manager,
  otherManager,
  png,
  storedFiles,
  upload,
  useImageApp,
} from "./imageApp.ts";

const BIG_IMAGE_BYTES = 4 * 1024 * 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
describe.each(DRIVERS)("%s store", (driver) => {
  // Room for an image still being sent when its client leaves (below).
  useImageApp(driver, BIG_IMAGE_BYTES + 1024);

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
        width: 1,
        height: 1,
      });
      const again = await upload(manager.token, png(1), "other-name.png");
      expect([again.status, again.body.id, again.body.url]).toEqual([200, first.body.id, first.body.url]);
      expect(await storedFiles()).toEqual([keyOf(first.body.hash)]);
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
        "cross-origin-resource-policy": "cross-origin",
        "x-content-type-options": "nosniff",
      });
      expect(Buffer.compare(served.body as Buffer, png(1))).toBe(0);
      const cached = await request(app.url).get(first.body.url).set("If-None-Match", `"${first.body.id}"`);
      expect(cached.status).toBe(304);
      // If-None-Match compares weakly, takes a list and `*`; another tag is a full answer.
      for (const [tags, status] of [
        [`W/"${first.body.id}"`, 304],
        [`"x", "${first.body.id}"`, 304],
        ["*", 304],
        [`"x"`, 200],
      ] as const) {
        const answer = await request(app.url).get(first.body.url).set("If-None-Match", tags);
        expect([tags, answer.status]).toEqual([tags, status]);
      }
      // The id in capitals is the same image.
      const capitals = await request(app.url).get(`/api/images/${(first.body.id as string).toUpperCase()}`);
      expect([capitals.status, capitals.headers.etag]).toEqual([200, `"${first.body.id}"`]);
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
      expect((await storedFiles()).filter((key) => key === keyOf(mine.body.hash))).toHaveLength(1);
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
      expect(event.body.errors?.[0]?.extensions).toEqual({ code: "VALIDATION_FAILED", details: { field: "image" } });
    },
  );

  test(
    "the same bytes uploaded by one tenant in parallel make one record: " + "one 201, the rest 200 with its id",
    async () => {
      // As many as one user may have in progress at once.
      const { uploadsPerUser } = mediaConfig.of(app.config);
      const answers = await Promise.all(Array.from({ length: uploadsPerUser }, () => upload(manager.token, png(42))));
      expect(answers.map((answer) => answer.status).sort()).toEqual([...Array(uploadsPerUser - 1).fill(200), 201]);
      expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1);
      const { rows } = await app.db.ownerPool.query(
        "select count(*)::int as n from app_public.images where sha256 = $1",
        [answers[0]!.body.hash],
      );
      expect(rows).toEqual([{ n: 1 }]);
    },
  );
  test("clients that leave while an image is looked up or sent are no server fault: nothing logged", async () => {
    // Still being sent when the client goes.
    const image = await upload(manager.token, png(7, BIG_IMAGE_BYTES));
    const warnings = () => appLog.filter((line) => (JSON.parse(line) as { level: number }).level >= 40);
    const warningsBefore = warnings().length;
    const { port } = new URL(app.url);
    for (let i = 0; i < 30; i++) {
      await new Promise<void>((resolve) => {
        const socket = connect(Number(port), "127.0.0.1", () => {
          socket.write(`GET ${image.body.url} HTTP/1.1\r\nHost: x\r\n\r\n`);
          // Gone at once or once the answer has begun, with a reset (a closed browser tab) or a
          // plain close (a client that read enough).
          if (i % 3 === 0) socket.resetAndDestroy();
          else if (i % 3 === 1) socket.once("data", () => socket.resetAndDestroy());
          else socket.once("data", () => socket.destroy());
        });
        socket.on("error", () => {});
        socket.on("close", () => resolve());
      });
    }
    // The server serves on, and logged no error or warning for any of them.
    expect((await fetchBytes(image.body.url)).status).toBe(200);
    expect(warnings().slice(warningsBefore)).toEqual([]);
  });
});
