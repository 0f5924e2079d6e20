/** Drops the run's template and stops the embedded server, if this run started one. */
import { rmSync } from "node:fs";
import { dirname } from "node:path";
import { dropDatabase } from "../../src/platform/db/cluster.ts";
import type { EmbeddedServer } from "../../src/platform/db/embedded.ts";
import { ENV_ROOT_URL, ENV_TEMPLATE } from "./testCluster.ts";

export default async function globalTeardown(): Promise<void> {
  const embedded = (globalThis as { __tesseraEmbedded?: EmbeddedServer }).__tesseraEmbedded;
  if (embedded) {
    await embedded.stop();
    rmSync(dirname(embedded.dataDir), { recursive: true, force: true });
    return;
  }
  const rootUrl = process.env[ENV_ROOT_URL];
  const template = process.env[ENV_TEMPLATE];
  if (rootUrl && template) await dropDatabase(rootUrl, template);
}
