/**
 * Media: image uploads for a tenant (POST /api/images, streamed multipart, type sniffed from the
 * bytes) and their capability URLs (GET /api/images/{id}), over a content-addressed local store.
 */
import type { ModuleManifest } from "../../platform/modules.ts";
import { mediaConfig } from "./config.ts";
import { imageRoutes } from "./rest.ts";
import { localImageStorage } from "./storage.ts";

export const media: ModuleManifest = {
  name: "media",
  config: mediaConfig,
  server({ config, ownerPool }) {
    const { uploadPath, maxBytes } = mediaConfig.of(config);
    // Multipart bodies are streamed, never buffered by a body parser.
    return { streamingRoutes: [imageRoutes({ storage: localImageStorage(uploadPath), maxBytes, pool: ownerPool })] };
  },
};
