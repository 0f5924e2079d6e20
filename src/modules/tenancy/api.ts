/** Tenancy's REST routes as data (the route table); rest.ts implements them. */
import { z } from "zod";
import { defineRoute, type RouteSpec } from "../../platform/http/routeSpec.ts";

export const currentTenant = defineRoute({
  method: "get",
  path: "/api/tenants/current",
  operationId: "currentTenant",
  summary: "The signed-in user's tenant and its modules",
  tags: ["tenants"],
  security: "bearer",
  responses: {
    200: {
      description: "The tenant, with each module switched on or off",
      schema: z
        .object({
          id: z.uuid(),
          slug: z.string(),
          name: z.string(),
          status: z.string().describe("active or suspended"),
          modules: z.array(z.object({ module: z.string(), enabled: z.boolean() })),
        })
        .meta({ id: "Tenant" }),
    },
  },
  errors: ["FORBIDDEN", "NOT_FOUND"],
});

export const TENANCY_API: readonly RouteSpec[] = [currentTenant];
