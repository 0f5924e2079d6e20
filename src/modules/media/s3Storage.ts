/**
 * The S3-compatible image store (AWS S3, MinIO, R2…): one bucket that several API instances
 * share, objects under the same keys as the local store (`ab/cd/<sha256>`). Uploads are still
 * received into local temporary files (hashed and sniffed first), then sent whole.
 *
 * The store being down is never a crash and never a half-written upload: every failure of a call
 * to it is SERVICE_UNAVAILABLE (503 with Retry-After), the upload route writes the tenant's record
 * only after `put` succeeded, and `put` removes the temporary file on every path.
 */
import { createReadStream } from "node:fs";
import { rm, stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { AppError, SERVICE_UNAVAILABLE_RETRY_AFTER } from "../../platform/errors.ts";
import type { Logger } from "../../platform/logger.ts";
import type { ImageStore } from "./config.ts";
import { type ImageStorage, keyOf, tempDirectory } from "./storage.ts";

export type S3StoreOptions = Extract<ImageStore, { driver: "s3" }> & {
  /** Local directory of the temporary uploads. */
  tempDir: string;
  logger: Logger;
  /** How long to wait for a connection, and for a silent store (per attempt); 5 s and 10 s by default. */
  timeouts?: { connectMs: number; idleMs: number };
};

/** Not an error: the object is not there (HeadObject says NotFound: it has no body to say more). */
const ABSENT = new Set(["NotFound", "NoSuchKey"]);

/** How many times an upload is sent when the store closes its connection before answering. */
const PUT_ATTEMPTS = 3;

/**
 * A connection closed under the request before any answer: `socket hang up` (code ECONNRESET),
 * `read ECONNRESET`, `write EPIPE`. Read from the message as well as the code: the SDK replaces an
 * error from another realm (a test runner's sandbox) with a plain Error that keeps only the text.
 */
const DROPPED = /\b(ECONNRESET|EPIPE)\b|socket hang up/;

/**
 * Sends an upload, and sends it again (with a new body stream: the SDK cannot replay a streamed
 * one) when the connection was closed before any answer came. That is what a store does when it
 * closes a kept-alive connection just as the client sends on it; storing the same bytes under
 * their own hash twice is harmless. Any other failure, or an answer, is final.
 */
async function sendAgainIfDropped<T>(send: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      const { code, message, $metadata } = error as Error & { code?: string; $metadata?: { httpStatusCode?: number } };
      const dropped = !$metadata?.httpStatusCode && DROPPED.test(`${code ?? ""} ${message}`);
      if (!dropped || attempt >= PUT_ATTEMPTS) throw error;
    }
  }
}

export function s3ImageStorage(options: S3StoreOptions): ImageStorage {
  const client = new S3Client({
    endpoint: options.endpoint,
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
    // An unreachable or silent store fails the request in seconds instead of holding it (and its upload)
    // open; reads make 3 attempts, so a silent store answers 503 after about 3 × idleMs.
    requestHandler: {
      connectionTimeout: options.timeouts?.connectMs ?? 5_000,
      socketTimeout: options.timeouts?.idleMs ?? 10_000,
    },
    // The SDK logs every call (and every NotFound as an error) to a logger it is given; only its
    // warnings are worth a line. Failures reach the log once, through the request's error handler.
    logger: {
      debug: () => undefined,
      info: () => undefined,
      warn: (...content: unknown[]) => options.logger.warn({ content }, "S3 client warning"),
      error: () => undefined,
    },
  });
  const Bucket = options.bucket;

  /**
   * Runs a call to the store: undefined when the object is absent, SERVICE_UNAVAILABLE on any
   * failure — its cause (what the log shows) names the call, the store's error and HTTP status.
   */
  async function s3<T>(operation: string, call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof Error && ABSENT.has(error.name)) return undefined;
      const { name, message, $metadata } = error as Error & { $metadata?: { httpStatusCode?: number } };
      const status = $metadata?.httpStatusCode ? ` (HTTP ${$metadata.httpStatusCode})` : "";
      const cause = new Error(`image store, ${operation}: ${name}${status}: ${message}`, { cause: error });
      throw new AppError("SERVICE_UNAVAILABLE", "The image store is unavailable; try again shortly.", {
        cause,
        retryAfter: SERVICE_UNAVAILABLE_RETRY_AFTER,
      });
    }
  }

  return {
    ...tempDirectory(options.tempDir),
    async put(hash, tempFile) {
      const Key = keyOf(hash);
      try {
        // Content-addressed: present means these very bytes are stored already.
        if (await s3("HeadObject", () => client.send(new HeadObjectCommand({ Bucket, Key }))))
          return { created: false };
        const { size } = await stat(tempFile);
        // The SHA-256 the key is named after goes along: AWS (and every store that checks checksums)
        // refuses bytes that do not match it. Given as a header, it also keeps the SDK from its default
        // aws-chunked body with a trailing checksum, which some S3-compatible servers store as is.
        const ChecksumSHA256 = Buffer.from(hash, "hex").toString("base64");
        await s3("PutObject", () =>
          sendAgainIfDropped(() =>
            client.send(
              new PutObjectCommand({
                Bucket,
                Key,
                Body: createReadStream(tempFile),
                ContentLength: size,
                ChecksumSHA256,
              }),
            ),
          ),
        );
        return { created: true };
      } finally {
        await rm(tempFile, { force: true });
      }
    },
    async get(hash) {
      const Key = keyOf(hash);
      const first = await s3("GetObject", async () => {
        const object = await client.send(new GetObjectCommand({ Bucket, Key, Range: "bytes=0-11" }));
        return { object, bytes: await object.Body!.transformToByteArray() };
      });
      if (!first) return undefined;
      // "bytes 0-11/<size>"; a server that ignored the range sent everything.
      const total = /\/(\d+)$/.exec(first.object.ContentRange ?? "")?.[1];
      const size = total === undefined ? first.bytes.length : Number(total);
      return { size, head: first.bytes.subarray(0, 12), open: () => Readable.from(body(Key), { objectMode: false }) };
    },
    async close() {
      client.destroy();
    },
  };

  /** The object's bytes, requested when the stream is first read; a failure is the stream's error. */
  async function* body(Key: string): AsyncGenerator<Uint8Array> {
    const object = await s3("GetObject", () => client.send(new GetObjectCommand({ Bucket, Key })));
    if (!object) throw new AppError("NOT_FOUND", "No such image.");
    yield* object.Body as Readable;
  }
}
