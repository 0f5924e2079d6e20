/**
 * Media's REST routes as data (the route table); rest.ts implements them. Uploads are streamed
 * multipart (mounted before the body parsers); an image is answered as its bytes.
 */
import { z } from "zod";
import { defineRoute, type RouteSpec } from "../../platform/http/routeSpec.ts";

const IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"] as const;

const Image = z
  .object({
    id: z.uuid(),
    url: z.string().describe("The image's capability URL: /api/images/{id}"),
    hash: z.string().describe("SHA-256 of the bytes, hex"),
    contentType: z.enum(IMAGE_TYPES),
    size: z.int().min(0),
    width: z.int().min(1).describe("Pixels, as browsers lay the image out (after an EXIF quarter turn)"),
    height: z.int().min(1).describe("Pixels, as browsers lay the image out (after an EXIF quarter turn)"),
  })
  .meta({ id: "Image" });

export const uploadImage = defineRoute({
  method: "post",
  path: "/api/images",
  operationId: "uploadImage",
  summary: "Uploads an image (PNG, JPEG, GIF or WebP; the type is read from the bytes)",
  description:
    "Needs the images.upload permission and the media module on. One `file` part, at most 10 other fields " +
    "of at most 1 KiB; no Content-Encoding. The size limit is IMAGE_MAX_BYTES; the file must be a whole, " +
    "well-formed image (MALFORMED_IMAGE) of at most MEDIA_IMAGE_MAX_PIXELS pixels (TOO_MANY_PIXELS), both " +
    "VALIDATION_FAILED; a tenant's images together " +
    "stay within MEDIA_TENANT_QUOTA_BYTES (STORAGE_QUOTA_EXCEEDED); at most MEDIA_UPLOADS_PER_USER uploads of " +
    "one user at once (RATE_LIMITED, UPLOADS_IN_PROGRESS).",
  tags: ["images"],
  security: "bearer",
  body: {
    content: {
      "multipart/form-data": z.object({
        file: z.string().meta({ contentMediaType: "application/octet-stream", description: "The image's bytes" }),
      }),
    },
  },
  responses: {
    201: { description: "Recorded for the tenant", schema: Image },
    200: { description: "The tenant had these bytes already: its existing record", schema: Image },
  },
  errors: ["FORBIDDEN", "STORAGE_QUOTA_EXCEEDED", "RATE_LIMITED", "SERVICE_UNAVAILABLE"],
});

export const getImage = defineRoute({
  method: "get",
  path: "/api/images/{id}",
  operationId: "getImage",
  summary: "An image's bytes (its id is the capability: anyone holding the URL may read it)",
  tags: ["images"],
  params: z.object({ id: z.string().describe("The image's id (a UUID, in either case; anything else is 404)") }),
  // Embedded in pages and e-mails, where caches and proxies may add their own query keys.
  query: z.looseObject({}),
  responses: {
    200: {
      description: "The bytes, cacheable for ever",
      media: [...IMAGE_TYPES, "application/octet-stream"],
      headers: { ETag: "The image's id, quoted", "Cache-Control": "public, max-age=31536000, immutable" },
    },
    304: { description: "Not modified (If-None-Match named the ETag)" },
  },
  errors: ["NOT_FOUND"],
});

export const MEDIA_API: readonly RouteSpec[] = [uploadImage, getImage];
