/**
 * Operations: the job queue as a tenant's admins see it (failed and stuck jobs through GraphQL,
 * retry and discard), the operator's commands (`npm run task`) and platform operators, named only
 * from the server's command line (`npm run init -- --operator <e-mail>`).
 */
import type { ModuleManifest } from "../../platform/modules.ts";
import { enqueue, redeliver, retry, unlockWorkers } from "./commands.ts";
import { operatorStep } from "./operators.ts";

export const operations: ModuleManifest = {
  name: "operations",
  bootstrap: [operatorStep],
  commands: { enqueue, retry, "unlock-workers": unlockWorkers, redeliver },
};
