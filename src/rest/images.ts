/**
 * POST /api/images (multipart field `file`) and GET /api/images/{sha256}. Uploads need a signed-in
 * user allowed to manage content (events.manage or catalog.manage). The type is sniffed from the
 * bytes; the size is limited while streaming, so an oversized upload never reaches the disk whole.
 */
import { createHash, randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import busboy from "busboy";
import { Router, type Request } from "express";
import type pg from "pg";
import { AppError } from "../errors.ts";
import { requireUser } from "../http/authenticate.ts";
import { sniffImageType } from "../images/sniff.ts";
import type { ImageStorage } from "../images/storage.ts";

const HASH = /^[0-9a-f]{64}$/;
const UPLOAD_PERMISSIONS = ["events.manage", "catalog.manage"];

export interface ImageRouteOptions {
  storage: ImageStorage;
  maxBytes: number;
  /** Owner pool: checks the uploader's permissions for the session's tenant. */
  pool: pg.Pool;
}

export function imageRoutes({ storage, maxBytes, pool }: ImageRouteOptions): Router {
  const router = Router();

  router.post("/images", async (req, res) => {
    const claims = requireUser(req);
    const { rows } = await pool.query<{ allowed: boolean }>(
      `select exists (
         select 1 from app_public.user_roles ur
         join app_public.roles r on r.id = ur.role_id
         join app_public.role_permissions rp on rp.role_id = r.id
         where ur.user_id = $1 and r.tenant_id = $2 and rp.permission = any($3)
       ) as allowed`,
      [claims.sub, claims.tid, UPLOAD_PERMISSIONS],
    );
    if (!rows[0]?.allowed) throw new AppError("FORBIDDEN", `Uploading images needs one of: ${UPLOAD_PERMISSIONS.join(", ")}.`);
    if (!req.is("multipart/form-data")) throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Send multipart/form-data with a `file` field.");
    const upload = await receiveFile(req, storage, maxBytes);
    const type = sniffImageType(upload.head);
    if (!type) {
      await rm(upload.tempFile, { force: true });
      throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Only PNG, JPEG, GIF and WebP images are accepted.");
    }
    const { created } = await storage.put(upload.hash, upload.tempFile);
    res.status(created ? 201 : 200).json({ hash: upload.hash, url: `/api/images/${upload.hash}`, contentType: type, size: upload.size });
  });

  router.get("/images/:hash", async (req, res) => {
    const hash = req.params.hash;
    if (!HASH.test(hash)) throw new AppError("NOT_FOUND", "No such image.");
    const etag = `"${hash}"`;
    res.setHeader("ETag", etag);
    res.setHeader("Cache-Control", "public, max-age=31536000, immutable");
    if (req.get("if-none-match") === etag) {
      res.status(304).end();
      return;
    }
    const stored = await storage.get(hash);
    if (!stored) {
      res.removeHeader("ETag");
      res.removeHeader("Cache-Control");
      throw new AppError("NOT_FOUND", "No such image.");
    }
    res.setHeader("Content-Length", String(stored.size));
    res.setHeader("Content-Type", sniffImageType(stored.head) ?? "application/octet-stream");
    res.setHeader("X-Content-Type-Options", "nosniff");
    await pipeline(stored.open(), res);
  });

  return router;
}

interface ReceivedFile {
  tempFile: string;
  hash: string;
  size: number;
  head: Uint8Array;
}

/** Streams the `file` field to a temporary file, hashing as it goes; enforces the size limit. */
function receiveFile(req: Request, storage: ImageStorage, maxBytes: number): Promise<ReceivedFile> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: 1, fileSize: maxBytes, fields: 10 } });
    } catch {
      reject(new AppError("UNSUPPORTED_MEDIA_TYPE", "Send multipart/form-data with a `file` field."));
      return;
    }
    let handled: Promise<ReceivedFile> | undefined;
    parser.on("file", (field, stream) => {
      if (field !== "file" || handled) {
        stream.resume();
        return;
      }
      handled = (async () => {
        const tempFile = await storage.tempPath(`${randomUUID()}.upload`);
        const hash = createHash("sha256");
        const chunks: Buffer[] = [];
        let size = 0;
        stream.on("data", (chunk: Buffer) => {
          hash.update(chunk);
          if (size < 12) chunks.push(chunk);
          size += chunk.length;
        });
        try {
          await pipeline(stream, createWriteStream(tempFile));
        } catch (error) {
          await rm(tempFile, { force: true });
          throw error;
        }
        if ((stream as unknown as { truncated?: boolean }).truncated) {
          await rm(tempFile, { force: true });
          throw new AppError("PAYLOAD_TOO_LARGE", `Images may be at most ${maxBytes} bytes.`);
        }
        return { tempFile, hash: hash.digest("hex"), size, head: new Uint8Array(Buffer.concat(chunks).subarray(0, 12)) };
      })();
    });
    parser.on("error", () => reject(new AppError("VALIDATION_FAILED", "The multipart body is malformed.")));
    parser.on("close", () => {
      if (!handled) reject(new AppError("VALIDATION_FAILED", "The `file` field is missing.", { details: { fields: { file: "required" } } }));
      else handled.then(resolve, reject);
    });
    req.pipe(parser);
  });
}
