/**
 * Image storage behind a driver: local disk here, an S3-compatible bucket in s3Storage.ts (when
 * several API instances must share files). Both keep the bytes content-addressed by SHA-256 under
 * the same key, sharded by hash prefix (`ab/cd/<hash>`), so the same bytes are stored once,
 * whichever tenants uploaded them (who may use them is recorded in app_public.images, not here).
 * Uploads are received into temporary files on local disk with either driver.
 */
import { constants, createReadStream } from "node:fs";
import { access, open, readdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { StartupError } from "../../platform/config.ts";
import { makeDirectory } from "../../platform/directories.ts";
import { errnoCode } from "../../platform/system.ts";

export interface StoredImage {
  size: number;
  head: Uint8Array;
  open(): Readable;
}

export interface ImageStorage {
  /**
   * Stores a complete temporary file under its hash and removes the temporary file; a duplicate is
   * not stored again (created: false). A store that cannot be reached is SERVICE_UNAVAILABLE.
   */
  put(hash: string, tempFile: string): Promise<{ created: boolean }>;
  /** The stored image's size, first bytes (to label its type) and a way to stream it; undefined if absent. */
  get(hash: string): Promise<StoredImage | undefined>;
  /** A path for a temporary upload on local disk (for the local driver, its file system: the move is a rename). */
  tempPath(name: string): Promise<string>;
  /**
   * Removes temporary uploads (`*.upload`) not written to for `olderThanMs` — left by a process
   * that died mid-upload. A live upload writes as its bytes arrive, so it is never that old.
   * Returns how many were removed.
   */
  sweepTemp(olderThanMs: number): Promise<number>;
  /** Releases what the driver holds open (connections); called when the server stops. */
  close?(): Promise<void>;
}

/** The key of some bytes, in either store: `ab/cd/<hash>`. */
export const keyOf = (hash: string) => `${hash.slice(0, 2)}/${hash.slice(2, 4)}/${hash}`;

/**
 * The directory exists (made if need be) and takes files; otherwise the server does not start, with
 * one line naming the variable, instead of answering every upload with an error.
 */
export async function ensureWritable(dir: string, variable: string): Promise<void> {
  try {
    await makeDirectory(dir);
    await access(dir, constants.W_OK);
  } catch (error) {
    const reason = errnoCode(error);
    throw new StartupError(
      `${variable}: ${dir} cannot be written to (${reason}): set ${variable} to a writable directory.`,
    );
  }
}

/** The temporary-upload half of a driver: files `<dir>/<name>`, swept by age. */
export function tempDirectory(dir: string): Pick<ImageStorage, "tempPath" | "sweepTemp"> {
  return {
    async tempPath(name) {
      await makeDirectory(dir);
      return join(dir, name);
    },
    async sweepTemp(olderThanMs) {
      const names = await readdir(dir).catch(() => [] as string[]);
      const cutoff = Date.now() - olderThanMs;
      let removed = 0;
      for (const name of names) {
        if (!name.endsWith(".upload")) continue;
        const path = join(dir, name);
        const info = await stat(path).catch(() => undefined);
        if (!info?.isFile() || info.mtimeMs > cutoff) continue;
        await rm(path, { force: true });
        removed++;
      }
      return removed;
    },
  };
}

/** Files under `root` (`root/ab/cd/<hash>`), temporary uploads in `root/tmp`. */
export function localImageStorage(root: string): ImageStorage {
  const pathOf = (hash: string) => join(root, keyOf(hash));
  return {
    ...tempDirectory(join(root, "tmp")),
    async put(hash, tempFile) {
      const target = pathOf(hash);
      if (await exists(target)) {
        await rm(tempFile, { force: true });
        return { created: false };
      }
      await makeDirectory(dirname(target));
      await rename(tempFile, target);
      return { created: true };
    },
    async get(hash) {
      const path = pathOf(hash);
      const handle = await open(path, "r").catch(() => undefined);
      if (!handle) return undefined;
      try {
        const { size } = await handle.stat();
        const head = new Uint8Array(12);
        await handle.read(head, 0, head.length, 0);
        return { size, head, open: () => createReadStream(path) };
      } finally {
        await handle.close();
      }
    },
  };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
