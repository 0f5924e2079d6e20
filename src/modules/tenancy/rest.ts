/** REST shim over GraphQL for simple clients: the signed-in user's tenant and its modules. */
import { Router } from "express";
import { AppError } from "../../platform/errors.ts";
import { CurrentTenantDocument } from "../../generated/graphql.ts";
import type { OperationRunner } from "../../platform/graphql/execute.ts";
import { requireUser } from "../../platform/http/authenticate.ts";

export function tenantRoutes(runOperation: OperationRunner): Router {
  const router = Router();
  router.get("/tenants/current", async (req, res) => {
    requireUser(req);
    const data = await runOperation(CurrentTenantDocument, {}, { req, res });
    if (!data.currentTenant) throw new AppError("NOT_FOUND", "The tenant of this token does not exist.");
    const { tenantModules, ...tenant } = data.currentTenant;
    res.json({ ...tenant, modules: tenantModules.nodes });
  });
  return router;
}
