/** REST shim over GraphQL for simple clients: the signed-in user's tenant and its modules. Spec: api.ts. */
import type { Router } from "express";
import { CurrentTenantDocument } from "../../generated/graphql.ts";
import { AppError } from "../../platform/errors.ts";
import type { OperationRunner } from "../../platform/graphql/execute.ts";
import { apiRouter, implement } from "../../platform/http/routeTable.ts";
import { currentTenant } from "./api.ts";

export function tenantRoutes(runOperation: OperationRunner): Router {
  return apiRouter([
    implement(currentTenant, async ({ req, res }) => {
      const data = await runOperation(CurrentTenantDocument, { after: null }, { req, res });
      if (!data.currentTenant) throw new AppError("NOT_FOUND", "The tenant of this token does not exist.");
      const { tenantModules, ...tenant } = data.currentTenant;
      // Every module, however small GRAPHQL_MAX_PAGE_SIZE is: the next page after the last one.
      // GraphQL types a connection's nodes as nullable; the answer lists the tenant's modules.
      const modules = tenantModules.nodes.filter((node) => node !== null);
      for (let page = tenantModules.pageInfo; page.hasNextPage && page.endCursor; ) {
        const next = await runOperation(CurrentTenantDocument, { after: page.endCursor }, { req, res });
        if (!next.currentTenant) throw new AppError("NOT_FOUND", "The tenant of this token does not exist.");
        modules.push(...next.currentTenant.tenantModules.nodes.filter((node) => node !== null));
        page = next.currentTenant.tenantModules.pageInfo;
      }
      return { status: 200, body: { ...tenant, modules } };
    }),
  ]);
}
