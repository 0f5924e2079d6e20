/**
 * POST /api/images (multipart field `file`) and GET /api/images/{id}. Uploads need a signed-in
 * user with the images.upload permission, in a tenant with the media module on. Each upload is recorded for
 * the uploader's tenant in app_public.images (its id is the capability URL's secret); the bytes
 * underneath are content-addressed and stored once. The type is sniffed from the bytes and the
 * image's structure read whole (inspect.ts); the size is limited while streaming, so an oversized
 * upload never reaches the disk whole.
 *
 * A request can never take the process down: every stream of an upload has its 'error' listener
 * from the moment it exists, the upload settles once, and its temporary file is removed on every
 * path but success (where it is moved into the store).
 */
import { createHash, randomUUID } from "node:crypto";
import { createWriteStream, type WriteStream } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import busboy from "busboy";
import type { Request, Router } from "express";
import type pg from "pg";
import type { SessionCheck } from "../../platform/auth/sessionCheck.ts";
import { countDown } from "../../platform/countDown.ts";
import { inTransaction } from "../../platform/db/pools.ts";
import { AppError } from "../../platform/errors.ts";
import { requireUser } from "../../platform/http/authenticate.ts";
import { apiRouter, implement } from "../../platform/http/routeTable.ts";
import { getImage, uploadImage } from "./api.ts";
import { inspectImage } from "./inspect.ts";
import { type ImageType, sniffImageType } from "./sniff.ts";
import type { ImageStorage } from "./storage.ts";
import {
  declaredCharset,
  declaredLengthRefusal,
  isUtf8Charset,
  unsupportedCharset,
} from "../../platform/http/requestBody.ts";

const IMAGE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Temporary uploads untouched this long are leftovers of a dead process (swept at start). */
export const STALE_UPLOAD_MS = 60 * 60 * 1000;
/**
 * Multipart limits besides the file size (busboy caps each part's headers at 16 KiB itself): one
 * file part, at most 10 other fields of at most 1 KiB each, so at most 11 parts. Crossing any of
 * them is 400 VALIDATION_FAILED naming the limit (details.reason, details.max).
 */
export const MULTIPART_LIMITS = { files: 1, fields: 10, fieldSize: 1024, parts: 11 };
/**
 * The most a multipart body within those limits holds besides its file: each part's headers (16 KiB)
 * and boundary lines, and the fields. A body declared longer than the file limit and this is refused
 * before a byte of it is read or a `100 Continue` invites it.
 */
export const MULTIPART_OVERHEAD = MULTIPART_LIMITS.parts * (16 * 1024 + 128) + MULTIPART_LIMITS.fields * 1024;

export interface ImageRouteOptions {
  storage: ImageStorage;
  maxBytes: number;
  /** The most pixels (width × height) an image may declare. */
  maxPixels: number;
  /** The most bytes a tenant's image records may add up to. */
  tenantQuotaBytes: number;
  /** The most uploads one user may have in progress at once (in this process). */
  uploadsPerUser: number;
  /** Owner pool: checks the uploader's permissions, records uploads, resolves image ids. */
  pool: pg.Pool;
  /** The session check, made again once the body is in: the session may have ended while it arrived. */
  checkSession: SessionCheck;
}

/**
 * The upload route streams its body, so it is mounted before the body parsers; the download route
 * takes no body and is mounted after them, as every other route is (a body sent to it is refused).
 */
export function imageRoutes(options: ImageRouteOptions): {
  upload: Router;
  download: Router;
} {
  const { storage, maxBytes, maxPixels, tenantQuotaBytes, uploadsPerUser, pool, checkSession } = options;
  const inProgress = uploadsInProgress(uploadsPerUser);
  // Leftovers of a process that died mid-upload; best effort, never in a request's way.
  void storage.sweepTemp(STALE_UPLOAD_MS).catch(() => undefined);

  /**
   * The media module on for the tenant and the images.upload permission (FORBIDDEN otherwise); with
   * the upload's hash and size, also room for it in the tenant's quota (STORAGE_QUOTA_EXCEEDED).
   */
  const assertMayUpload = async (claims: { sub: string; tid: string }, upload?: { hash: string; size: number }) => {
    await pool.query("select app_private.assert_may_upload_image($1, $2, $3, $4, $5)", [
      claims.sub,
      claims.tid,
      upload?.hash ?? null,
      upload?.size ?? null,
      tenantQuotaBytes,
    ]);
  };

  const uploadRoute = implement(uploadImage, async ({ req, res }) => {
    const claims = requireUser(req);
    await assertMayUpload(claims);
    if (!req.is("multipart/form-data"))
      throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Send multipart/form-data with a `file` field.");
    // As every body of the API: UTF-8 (the form's text fields are read so), whatever a file part holds.
    const charset = declaredCharset(req);
    if (charset && !isUtf8Charset(charset)) throw unsupportedCharset();
    // The body is read as sent: a compressed (or claimed-compressed) body is refused unread.
    const encoding = req.get("content-encoding")?.trim().toLowerCase();
    if (encoding && encoding !== "identity")
      throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Uploads are sent without Content-Encoding.");
    const tooLong = declaredLengthRefusal(req, maxBytes + MULTIPART_OVERHEAD);
    if (tooLong) throw tooLong;
    const tempFile = await storage.tempPath(`${randomUUID()}.upload`);
    // Nothing awaited between taking the place and the try that gives it back.
    const done = inProgress.begin(claims.sub);
    try {
      const upload = await receiveFile(req, tempFile, maxBytes);
      const type = sniffImageType(upload.head);
      if (!type) throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Only PNG, JPEG, GIF and WebP images are accepted.");
      // Both checked again once the body is in: a slow upload may have outlived the session, the
      // module or the permission. The record checks the module and permission once more, in its own
      // statement, for a change made while the bytes are stored.
      await checkSession(claims);
      await assertMayUpload(claims, upload);
      const { width, height } = await inspectFile(tempFile, type, maxPixels);
      // Bytes first, then the tenant's record: a recorded image always has its bytes.
      await storage.put(upload.hash, tempFile);
      const image = await recordImage(pool, {
        tenantId: claims.tid,
        userId: claims.sub,
        sessionId: claims.sid,
        hash: upload.hash,
        contentType: type,
        size: upload.size,
        quotaBytes: tenantQuotaBytes,
      });
      // Over before the answer is written: a client that sends its next upload on reading it has the place.
      done();
      // 201 or 200 says whether *this tenant* had these bytes already — never whether anyone else had.
      res.status(image.created ? 201 : 200).json({
        id: image.id,
        url: `/api/images/${image.id}`,
        hash: upload.hash,
        contentType: type,
        size: upload.size,
        width,
        height,
      });
    } finally {
      // On a refusal, over before the error handler answers.
      done();
      // Moved into the store on success; on every other path this is what removes it.
      await rm(tempFile, { force: true });
    }
  });

  const downloadRoute = implement(getImage, async ({ params, req, res }) => {
    // A UUID is read in either case (RFC 9562 §4); the ETag names it as the upload answered it.
    const id = params.id.toLowerCase();
    if (!IMAGE_ID.test(id)) throw new AppError("NOT_FOUND", "No such image.");
    const { rows } = await pool.query<{ sha256: string }>("select sha256 from app_public.images where id = $1", [id]);
    const stored = rows[0] ? await storage.get(rows[0].sha256) : undefined;
    if (!stored) throw new AppError("NOT_FOUND", "No such image.");
    // An id always names the same bytes, so the answer never changes.
    const etag = `"${id}"`;
    res.setHeader("ETag", etag);
    res.setHeader("Cache-Control", "public, max-age=31536000, immutable");
    // Capability URLs for <img> tags on the tenant's own sites and in e-mails: any origin may embed
    // them (helmet's default, same-origin, would make browsers refuse them elsewhere).
    res.setHeader("Cross-Origin-Resource-Policy", "cross-origin");
    // If-None-Match compares weakly and may list tags, or be `*` (RFC 9110 §13.1.2).
    const tags = (req.get("if-none-match") ?? "").split(",").map((tag) => tag.trim().replace(/^W\//, ""));
    if (tags.includes(etag) || tags.includes("*")) {
      res.status(304).end();
      return;
    }
    res.setHeader("Content-Length", String(stored.size));
    res.setHeader("Content-Type", sniffImageType(stored.head) ?? "application/octet-stream");
    res.setHeader("X-Content-Type-Options", "nosniff");
    // A client that left while the image was looked up, or while it is sent, is not a server fault:
    // nothing is opened for it, or the stream is just cut (it logged an error with a stack before).
    if (res.destroyed) return;
    const source = stored.open();
    let sourceFailed = false;
    // A client that leaves mid-way makes the pipeline destroy the source with a premature close:
    // that is the client's doing, not the store's.
    source.once(
      "error",
      (error: NodeJS.ErrnoException) => (sourceFailed = error.code !== "ERR_STREAM_PREMATURE_CLOSE"),
    );
    try {
      await pipeline(source, res);
    } catch (error) {
      if (sourceFailed) throw error; // the store failed: a server fault
    }
  });

  return { upload: apiRouter([uploadRoute]), download: apiRouter([downloadRoute]) };
}

/**
 * Each user's uploads in progress in this process, at most `max` at once: one more is RATE_LIMITED
 * before a byte of its body is read, so one account cannot fill the disk with temporary files or the
 * cores with image checks. `begin` returns the function that ends the upload (once; later calls do
 * nothing).
 */
function uploadsInProgress(max: number) {
  const counts = new Map<string, number>();
  return {
    begin(userId: string): () => void {
      const count = counts.get(userId) ?? 0;
      if (count >= max)
        throw new AppError("RATE_LIMITED", `At most ${max} uploads of one user at once; wait for one to finish.`, {
          retryAfter: 1,
          details: { reason: "UPLOADS_IN_PROGRESS", max, retryAfter: 1 },
        });
      counts.set(userId, count + 1);
      let ended = false;
      return () => {
        if (!ended) countDown(counts, userId);
        ended = true;
      };
    },
  };
}

/** The tenant's record of these bytes: a new row (created) or the one it already had. */
async function recordImage(
  pool: pg.Pool,
  image: {
    tenantId: string;
    userId: string;
    sessionId: string;
    hash: string;
    contentType: string;
    size: number;
    quotaBytes: number;
  },
): Promise<{ id: string; created: boolean }> {
  const client = await pool.connect();
  try {
    return await inTransaction(client, async () => {
      // The uploader's session share-locked first: a logout committing since the check above is
      // waited for and refuses the record (UNAUTHENTICATED); one that comes later waits for it.
      await client.query("select app_private.hold_live_session($1, $2)", [image.userId, image.sessionId]);
      // One statement, so two uploads of the same bytes at once both get the row (created: false).
      const { rows } = await client.query<{ id: string; created: boolean }>(
        "select id, created from app_private.record_image($1, $2, $3, $4, $5, $6)",
        [image.tenantId, image.userId, image.hash, image.contentType, image.size, image.quotaBytes],
      );
      return rows[0]!;
    });
  } finally {
    client.release();
  }
}

const FORMAT_NAMES: Record<ImageType, string> = {
  "image/png": "PNG",
  "image/jpeg": "JPEG",
  "image/gif": "GIF",
  "image/webp": "WebP",
};

/**
 * The width and height of the image in `file`, once its structure is read whole (inspect.ts):
 * VALIDATION_FAILED with `details.reason` MALFORMED_IMAGE for a file cut short or broken, and
 * TOO_MANY_PIXELS (`details.max`) for one declaring more than `maxPixels`.
 */
async function inspectFile(
  file: string,
  type: ImageType,
  maxPixels: number,
): Promise<{ width: number; height: number }> {
  const inspection = await inspectImage(await readFile(file), type);
  if ("problem" in inspection)
    throw new AppError("VALIDATION_FAILED", `The ${FORMAT_NAMES[type]} image is not valid: ${inspection.problem}.`, {
      details: { field: "file", reason: "MALFORMED_IMAGE" },
    });
  const { width, height } = inspection;
  if (width * height > maxPixels)
    throw new AppError(
      "VALIDATION_FAILED",
      `The image is ${width} × ${height} pixels; at most ${maxPixels} are accepted.`,
      {
        details: { field: "file", reason: "TOO_MANY_PIXELS", max: maxPixels, width, height },
      },
    );
  return { width, height };
}

interface ReceivedFile {
  hash: string;
  size: number;
  head: Uint8Array;
}

const malformed = () => new AppError("VALIDATION_FAILED", "The multipart body is malformed.");

/**
 * Streams the `file` field to `tempFile`, hashing as it goes, within `maxBytes`. Settles exactly
 * once: resolves when the body is parsed to its end and the file is written and closed; rejects
 * (after the partial file is closed and removed) on a malformed or cut-off body, a client that
 * goes away, an oversized file or a write error. Every stream involved has an 'error' listener
 * from the moment it exists.
 */
function receiveFile(req: Request, tempFile: string, maxBytes: number): Promise<ReceivedFile> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let parser: busboy.Busboy | undefined;
    let file: Readable | undefined;
    let out: WriteStream | undefined;
    let written = false;
    let parsed = false;
    const hash = createHash("sha256");
    const head: Buffer[] = [];
    let size = 0;

    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      if (parser) req.unpipe(parser);
      // Read and drop what the client still sends, so that it gets to read the answer.
      req.resume();
      const current = parser;
      // Not from inside the parser's own write (where 'limit' and 'error' are emitted).
      process.nextTick(() => current?.destroy());
      file?.destroy();
      const output = out;
      const closed =
        output && !output.closed ? new Promise<void>((done) => output.once("close", () => done())) : Promise.resolve();
      output?.destroy();
      // The file may still be opening: remove it only once its descriptor is closed.
      void closed
        .then(() => rm(tempFile, { force: true }))
        .catch(() => undefined)
        .then(() => reject(error));
    };
    const succeedWhenDone = () => {
      if (settled || !parsed) return;
      if (!file)
        return fail(
          new AppError("VALIDATION_FAILED", "The `file` field is missing.", {
            details: { fields: { file: "required" } },
          }),
        );
      if (!written) return;
      settled = true;
      resolve({ hash: hash.digest("hex"), size, head: new Uint8Array(Buffer.concat(head).subarray(0, 12)) });
    };

    // The client went away before the whole body was read here. Whether the HTTP parser had it all
    // (`req.complete`) does not matter: what was not read yet went with the connection, and a body
    // sent whole just before the client left would otherwise never end, and the upload never settle.
    const aborted = () => fail(new AppError("VALIDATION_FAILED", "The upload was cut off before its end."));
    req.on("error", aborted);
    req.on("close", () => {
      if (!req.readableEnded) aborted();
    });
    if (req.destroyed && !req.readableEnded) return aborted();

    try {
      // busboy cuts a file or field off when it *reaches* fileSize / fieldSize: one byte more than
      // allowed, so that exactly the limit is whole and only a larger one is cut ('limit',
      // valueTruncated). parts + 1: busboy reports 'partsLimit' once that many parts have been read.
      parser = busboy({
        headers: req.headers,
        limits: {
          ...MULTIPART_LIMITS,
          fieldSize: MULTIPART_LIMITS.fieldSize + 1,
          parts: MULTIPART_LIMITS.parts + 1,
          fileSize: maxBytes + 1,
        },
      });
    } catch {
      // multipart/form-data without a usable boundary.
      return fail(malformed());
    }
    parser.on("file", (field, stream) => {
      // Listener first: busboy destroys a part's stream with an error when the body is cut off.
      stream.on("error", () => fail(malformed()));
      if (field !== "file" || file || settled) {
        stream.resume();
        return;
      }
      file = stream;
      // Emitted when the file reaches maxBytes + 1 bytes: it is larger than allowed.
      stream.on("limit", () => fail(new AppError("PAYLOAD_TOO_LARGE", `Images may be at most ${maxBytes} bytes.`)));
      stream.on("data", (chunk: Buffer) => {
        hash.update(chunk);
        if (size < 12) head.push(chunk);
        size += chunk.length;
      });
      out = createWriteStream(tempFile);
      out.on("error", (error) => fail(error));
      out.on("close", () => {
        if (!out!.writableFinished) return;
        written = true;
        succeedWhenDone();
      });
      stream.pipe(out);
    });
    const overLimit = (reason: string, max: number, what: string) =>
      fail(new AppError("VALIDATION_FAILED", `An upload has ${what}.`, { details: { reason, max } }));
    parser.on("filesLimit", () => overLimit("TOO_MANY_FILES", MULTIPART_LIMITS.files, "one file part only"));
    parser.on("fieldsLimit", () =>
      overLimit(
        "TOO_MANY_FIELDS",
        MULTIPART_LIMITS.fields,
        `at most ${MULTIPART_LIMITS.fields} fields besides \`file\``,
      ),
    );
    parser.on("partsLimit", () =>
      overLimit("TOO_MANY_PARTS", MULTIPART_LIMITS.parts, `at most ${MULTIPART_LIMITS.parts} parts`),
    );
    // Other fields are not used, but one longer than the limit is refused, not cut short.
    parser.on("field", (_name, _value, info) => {
      if (info.valueTruncated)
        overLimit(
          "FIELD_TOO_LONG",
          MULTIPART_LIMITS.fieldSize,
          `fields of at most ${MULTIPART_LIMITS.fieldSize} bytes`,
        );
    });
    parser.on("error", () => fail(malformed()));
    parser.on("close", () => {
      parsed = true;
      succeedWhenDone();
    });
    req.pipe(parser);
  });
}
