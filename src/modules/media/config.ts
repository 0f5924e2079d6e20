/** Media's environment variables: where uploaded images are stored and how large one may be. */
import { join, resolve } from "node:path";
import { z } from "zod";
import { configFragment } from "../../platform/config.ts";
import { integer } from "../../platform/configSchema.ts";
import { dataDir } from "../../platform/paths.ts";

export const mediaConfig = configFragment({
  variables: {
    IMAGE_UPLOAD_PATH: z.string().min(1).optional(),
    IMAGE_MAX_BYTES: integer(1024, 100 * 1024 * 1024).default(5 * 1024 * 1024),
  },
  build: (env) => ({
    uploadPath: resolve(env.IMAGE_UPLOAD_PATH ?? join(dataDir, "images")),
    maxBytes: env.IMAGE_MAX_BYTES,
  }),
});
