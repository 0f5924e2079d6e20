/**
 * Media: image uploads for a tenant (POST /api/images, streamed multipart, type sniffed from the
 * bytes) and their capability URLs (GET /api/images/{id}), over a content-addressed store: local disk or
 * an S3-compatible bucket (STORAGE_DRIVER).
 */
import { join } from "node:path";
import type { ModuleManifest } from "../../platform/modules.ts";
import { MEDIA_API } from "./api.ts";
import { mediaConfig } from "./config.ts";
import { MEDIA_ERRORS } from "./errors.ts";
import { imageRoutes } from "./rest.ts";
import { ensureWritable, localImageStorage } from "./storage.ts";

export const media: ModuleManifest = {
  name: "media",
  config: mediaConfig,
  errors: MEDIA_ERRORS,
  api: MEDIA_API,
  async server({ config, logger, ownerPool, checkSession }) {
    const { uploadPath, maxBytes, maxPixels, tenantQuotaBytes, uploadsPerUser, store } = mediaConfig.of(config);
    await ensureWritable(join(uploadPath, "tmp"), "IMAGE_UPLOAD_PATH");
    // The S3 driver (and its SDK, ~150 ms to load) only when configured: processes on local disk never load it.
    const storage =
      store.driver === "s3"
        ? (await import("./s3Storage.ts")).s3ImageStorage({ ...store, tempDir: join(uploadPath, "tmp"), logger })
        : localImageStorage(uploadPath);
    // Multipart bodies are streamed, never buffered by a body parser.
    const { upload, download } = imageRoutes({
      storage,
      maxBytes,
      maxPixels,
      tenantQuotaBytes,
      uploadsPerUser,
      pool: ownerPool,
      checkSession,
    });
    return {
      streamingRoutes: [upload],
      routes: () => [download],
      close: async () => storage.close?.(),
    };
  },
};
