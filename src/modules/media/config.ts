/**
 * Media's environment variables: where uploaded images are stored (local disk, or an S3-compatible
 * bucket that several API instances share), how large one may be, and how much a tenant may hold.
 */
import { join, resolve } from "node:path";
import { z } from "zod";
import { configFragment, type RawEnv } from "../../platform/config.ts";
import { httpUrl, integer, pathSetting } from "../../platform/configSchema.ts";
import { isHardenedEnv, PUBLISHED_SECRETS } from "../../platform/hardening.ts";
import { dataDir } from "../../platform/paths.ts";

/** Where the bytes go; the temporary uploads are on local disk (`uploadPath/tmp`) with either driver. */
export type ImageStore =
  | { driver: "local" }
  | {
      driver: "s3";
      /** Unset: AWS itself (the region's endpoint). */
      endpoint?: string;
      bucket: string;
      region: string;
      accessKeyId: string;
      secretAccessKey: string;
      /** `endpoint/bucket/key` instead of `bucket.endpoint/key` (MinIO and most self-hosted servers). */
      forcePathStyle: boolean;
    };

export interface MediaConfig {
  uploadPath: string;
  maxBytes: number;
  /** The most pixels (width × height) an uploaded image may declare. */
  maxPixels: number;
  /** The most bytes a tenant's image records may add up to (each record counted once, by its size). */
  tenantQuotaBytes: number;
  /** The most uploads one user may have in progress at once, in one process. */
  uploadsPerUser: number;
  store: ImageStore;
}

/**
 * S3 secrets anyone can read: s3rver's fixed key (the tests' S3 server), MinIO's default, and the
 * example key of AWS's documentation (the placeholder in .env.example). Refused in stage and prod
 * with the platform's published secrets. No length rule: providers issue keys of their own lengths.
 */
const PUBLISHED_S3_SECRETS: ReadonlySet<string> = new Set([
  "S3RVER",
  "minioadmin",
  "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
]);
const S3_REQUIRED = ["S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"] as const;
const S3_VARIABLES = [...S3_REQUIRED, "S3_ENDPOINT", "S3_REGION", "S3_FORCE_PATH_STYLE"] as const;

function storeProblems(raw: RawEnv): string[] {
  const problems: string[] = [];
  if (raw.STORAGE_DRIVER === "s3") {
    for (const name of S3_REQUIRED) if (!raw[name]) problems.push(`${name}: is required when STORAGE_DRIVER=s3`);
  } else {
    // A bucket configured but not used would leave each instance with files the others cannot serve.
    const stray = S3_VARIABLES.filter((name) => raw[name]);
    if (stray.length > 0) problems.push(`${stray.join(", ")}: set, but STORAGE_DRIVER is not s3`);
  }
  const env = raw.APP_ENV ?? "dev";
  const secret = raw.S3_SECRET_ACCESS_KEY;
  if (isHardenedEnv(env) && secret && (PUBLISHED_SECRETS.has(secret) || PUBLISHED_S3_SECRETS.has(secret)))
    problems.push(`S3_SECRET_ACCESS_KEY: this value is published; use your own key when APP_ENV=${env}`);
  return problems;
}

export const mediaConfig = configFragment({
  variables: {
    IMAGE_UPLOAD_PATH: pathSetting.optional(),
    IMAGE_MAX_BYTES: integer(1024, 100 * 1024 * 1024).default(5 * 1024 * 1024),
    MEDIA_IMAGE_MAX_PIXELS: integer(1, 2 ** 40).default(50_000_000),
    MEDIA_TENANT_QUOTA_BYTES: integer(1024, 2 ** 50).default(1024 * 1024 * 1024),
    MEDIA_UPLOADS_PER_USER: integer(1, 1000).default(4),
    STORAGE_DRIVER: z.enum(["local", "s3"], { error: "must be local or s3" }).default("local"),
    S3_ENDPOINT: httpUrl().optional(),
    S3_BUCKET: z.string().min(1).optional(),
    S3_REGION: z.string().min(1).default("us-east-1"),
    S3_ACCESS_KEY_ID: z.string().min(1).optional(),
    S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
    S3_FORCE_PATH_STYLE: z.enum(["true", "false"], { error: "must be true or false" }).default("false"),
  },
  problems: storeProblems,
  build: (env): MediaConfig => ({
    uploadPath: resolve(env.IMAGE_UPLOAD_PATH ?? join(dataDir, "images")),
    maxBytes: env.IMAGE_MAX_BYTES,
    maxPixels: env.MEDIA_IMAGE_MAX_PIXELS,
    tenantQuotaBytes: env.MEDIA_TENANT_QUOTA_BYTES,
    uploadsPerUser: env.MEDIA_UPLOADS_PER_USER,
    store:
      env.STORAGE_DRIVER === "s3"
        ? {
            driver: "s3",
            endpoint: env.S3_ENDPOINT,
            // Present: storeProblems refuses s3 without them before build runs.
            bucket: env.S3_BUCKET!,
            region: env.S3_REGION,
            accessKeyId: env.S3_ACCESS_KEY_ID!,
            secretAccessKey: env.S3_SECRET_ACCESS_KEY!,
            forcePathStyle: env.S3_FORCE_PATH_STYLE === "true",
          }
        : { driver: "local" },
  }),
});
