/**
 * Operations: the job queue as a tenant's admins see it (failed and stuck jobs through GraphQL,
 * retry and discard), the operator's commands (`npm run task`: jobs, backups) and platform
 * operators, named only from the server's command line (`npm run init -- --operator <e-mail>`).
 */
import type { ModuleManifest } from "../../platform/modules.ts";
import { backup, restore } from "./backup.ts";
import { enqueue, redeliver, retry, unlockWorkers } from "./commands.ts";
import { operationsConfig } from "./config.ts";
import { OPERATIONS_ERRORS } from "./errors.ts";
import { operatorStep } from "./operators.ts";

export const operations: ModuleManifest = {
  name: "operations",
  config: operationsConfig,
  errors: OPERATIONS_ERRORS,
  bootstrap: [operatorStep],
  commands: { enqueue, retry, "unlock-workers": unlockWorkers, redeliver, backup, restore },
};
