/** REST shim over GraphQL for simple clients: the signed-in user's tenant and its modules. Spec: api.ts. */
import type { Router } from "express";
import { CurrentTenantDocument, type CurrentTenantQuery } from "../../generated/graphql.ts";
import { AppError } from "../../platform/errors.ts";
import type { OperationRunner } from "../../platform/graphql/execute.ts";
import { apiRouter, implement } from "../../platform/http/routeTable.ts";
import { currentTenant } from "./api.ts";

export function tenantRoutes(runOperation: OperationRunner): Router {
  return apiRouter([
    implement(currentTenant, async ({ req, res }) => {
      // Every module, however small GRAPHQL_MAX_PAGE_SIZE is: each page asks for the one after it.
      const modules: Array<{ module: string; enabled: boolean }> = [];
      let tenant: Omit<NonNullable<CurrentTenantQuery["currentTenant"]>, "tenantModules">;
      let after: string | null = null;
      do {
        const data: CurrentTenantQuery = await runOperation(CurrentTenantDocument, { after }, { req, res });
        if (!data.currentTenant) throw new AppError("NOT_FOUND", "The tenant of this token does not exist.");
        const { tenantModules, ...rest } = data.currentTenant;
        tenant = rest;
        // GraphQL types a connection's nodes as nullable; the answer lists the tenant's modules.
        modules.push(...tenantModules.nodes.filter((node) => node !== null));
        after = tenantModules.pageInfo.hasNextPage ? (tenantModules.pageInfo.endCursor ?? null) : null;
      } while (after);
      return { status: 200, body: { ...tenant, modules } };
    }),
  ]);
}
