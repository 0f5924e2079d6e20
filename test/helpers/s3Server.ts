/**
 * A real S3-compatible server for tests: s3rver, in this process, on 127.0.0.1 at a random port,
 * its objects in a temporary directory. It checks the access key id (an unknown one is refused)
 * but not SigV4 signatures nor checksums — the media tests use it for what a store does (keys,
 * bytes, ranges, absent objects, refusals), not to test AWS's own checks.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";

/** s3rver's one account: the same fixed value is its access key id and its secret. */
const S3RVER_KEY = "S3RVER";

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** The media variables that point the API at this server's bucket. */
  env: Record<string, string>;
  /** Every object key of the bucket, sorted. */
  keys(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startS3Server(bucket = "tessera-images"): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), "tessera-s3-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY },
  });
  return {
    endpoint,
    bucket,
    env: {
      STORAGE_DRIVER: "s3",
      S3_ENDPOINT: endpoint,
      S3_BUCKET: bucket,
      S3_ACCESS_KEY_ID: S3RVER_KEY,
      S3_SECRET_ACCESS_KEY: S3RVER_KEY,
      S3_FORCE_PATH_STYLE: "true",
    },
    async keys() {
      const keys: string[] = [];
      let ContinuationToken: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken }));
        keys.push(...(page.Contents ?? []).map((object) => object.Key!));
        ContinuationToken = page.NextContinuationToken;
      } while (ContinuationToken);
      return keys.sort();
    },
    async stop() {
      client.destroy();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/**
 * An http:// endpoint on 127.0.0.1 where nothing listens: connections are refused. Port 1
 * (tcpmux), which nothing serves and no test binds. A port just released by a server of ours was
 * used before, but another test's server listening on port 0 could be given it meanwhile: a run
 * saw the upload refused with 503 but its logged cause was not ECONNREFUSED.
 */
export async function closedEndpoint(): Promise<string> {
  const endpoint = "http://127.0.0.1:1";
  const refused = await new Promise<boolean>((resolve) => {
    const socket = connect(1, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
  });
  if (!refused) throw new Error(`${endpoint} does not refuse connections on this machine`);
  return endpoint;
}
