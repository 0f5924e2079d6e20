/**
 * Media's store variables: STORAGE_DRIVER=s3 needs a bucket and both keys, S3 variables are not
 * set for nothing, stage and prod refuse published S3 secrets; every problem is named at once and
 * no secret is echoed.
 */
import { loadConfig } from "../../src/modules/index.ts";
import { mediaConfig } from "../../src/modules/media/config.ts";
import { ConfigError } from "../../src/platform/config.ts";
import { freshSecret as fresh, hardenedEnv, problemsOf } from "../helpers/config.ts";

const S3 = {
  STORAGE_DRIVER: "s3",
  S3_BUCKET: "images",
  S3_ACCESS_KEY_ID: "AKIAEXAMPLE",
  S3_SECRET_ACCESS_KEY: fresh(),
};

test("the local store is the default; s3 builds the store's settings", () => {
  expect(mediaConfig.of(loadConfig({})).store).toEqual({ driver: "local" });
  const { store } = mediaConfig.of(
    loadConfig({ ...S3, S3_ENDPOINT: "http://minio:9000", S3_FORCE_PATH_STYLE: "true" }),
  );
  expect(store).toEqual({
    driver: "s3",
    endpoint: "http://minio:9000",
    bucket: "images",
    region: "us-east-1",
    accessKeyId: "AKIAEXAMPLE",
    secretAccessKey: S3.S3_SECRET_ACCESS_KEY,
    forcePathStyle: true,
  });
  // No endpoint: AWS itself, virtual-hosted-style.
  expect(mediaConfig.of(loadConfig({ ...S3, S3_REGION: "eu-west-3" })).store).toMatchObject({
    endpoint: undefined,
    region: "eu-west-3",
    forcePathStyle: false,
  });
});

test("STORAGE_DRIVER=s3 without a bucket or keys names each missing variable, in one error with the others", () => {
  let error: unknown;
  try {
    loadConfig({ STORAGE_DRIVER: "s3", S3_ENDPOINT: "ftp://store", S3_FORCE_PATH_STYLE: "yes", PORT: "x" });
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).problems.sort()).toEqual([
    expect.stringMatching(/^PORT: /),
    "S3_ACCESS_KEY_ID: is required when STORAGE_DRIVER=s3",
    "S3_BUCKET: is required when STORAGE_DRIVER=s3",
    "S3_ENDPOINT: must be an http(s) URL",
    "S3_FORCE_PATH_STYLE: must be true or false",
    "S3_SECRET_ACCESS_KEY: is required when STORAGE_DRIVER=s3",
  ]);
  expect(problemsOf({ STORAGE_DRIVER: "gcs" })).toEqual(["STORAGE_DRIVER: must be local or s3"]);
});

test("S3 variables without STORAGE_DRIVER=s3 are a problem: each instance would keep its files to itself", () => {
  expect(problemsOf({ S3_BUCKET: "images", S3_REGION: "eu-west-3" })).toEqual([
    "S3_BUCKET, S3_REGION: set, but STORAGE_DRIVER is not s3",
  ]);
  expect(problemsOf({ STORAGE_DRIVER: "local", S3_SECRET_ACCESS_KEY: fresh() })).toEqual([
    "S3_SECRET_ACCESS_KEY: set, but STORAGE_DRIVER is not s3",
  ]);
});

describe("stage and prod", () => {
  const hardened = { ...hardenedEnv(), ...S3 };

  test("a key of one's own loads", () => {
    expect(problemsOf(hardened)).toEqual([]);
  });

  test.each([
    ["s3rver's fixed key (the tests' S3 server)", "S3RVER"],
    ["MinIO's default", "minioadmin"],
    ["AWS's documentation example (.env.example)", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"],
    ["a secret published by the platform", "change-me-to-a-long-random-secret-of-32-chars-or-more"],
  ])("refuse %s as S3_SECRET_ACCESS_KEY, without echoing it", (_what, secret) => {
    for (const env of ["prod", "stage"]) {
      const problems = problemsOf({ ...hardened, APP_ENV: env, S3_SECRET_ACCESS_KEY: secret });
      expect(problems).toEqual([`S3_SECRET_ACCESS_KEY: this value is published; use your own key when APP_ENV=${env}`]);
      expect(problems.join("\n")).not.toContain(secret);
    }
    expect(problemsOf({ ...S3, S3_SECRET_ACCESS_KEY: secret })).toEqual([]);
  });
});

test("MEDIA_UPLOADS_PER_USER is 4 by default, a whole number from 1 to 1000 when set", () => {
  expect(mediaConfig.of(loadConfig({})).uploadsPerUser).toBe(4);
  expect(mediaConfig.of(loadConfig({ MEDIA_UPLOADS_PER_USER: "1" })).uploadsPerUser).toBe(1);
  for (const value of ["0", "1001", "2.5", "many"])
    expect(problemsOf({ MEDIA_UPLOADS_PER_USER: value })).toEqual([expect.stringMatching(/^MEDIA_UPLOADS_PER_USER: /)]);
});
