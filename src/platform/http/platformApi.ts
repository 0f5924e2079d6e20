/**
 * The platform's own routes in the route table (health, readiness, /metrics, /openapi.json), and
 * the whole table of a module list: what the server implements and the OpenAPI document describes.
 */
import { z } from "zod";
import type { ModuleManifest } from "../modules.ts";
import { defineRoute, type RouteSpec } from "./routeSpec.ts";

const Alive = z.object({ status: z.literal("ok") }).meta({ id: "Alive" });
const alive = (path: string, operationId: string) =>
  defineRoute({
    method: "get",
    path,
    operationId,
    summary: "Liveness: answers while the process runs",
    tags: ["health"],
    responses: { 200: { description: "The process is alive", schema: Alive } },
  });

export const getHealth = alive("/health", "getHealth");
export const getHealthz = alive("/healthz", "getHealthz");
export const getApiHealthz = alive("/api/healthz", "getApiHealthz");

export const getReady = defineRoute({
  method: "get",
  path: "/ready",
  operationId: "getReady",
  summary: "Readiness: the database answers and every migration of this build is applied",
  tags: ["health"],
  responses: {
    200: { description: "Ready for traffic", schema: z.object({ status: z.literal("ready") }) },
    503: {
      description: "Not ready: the database is unreachable or migrations are pending",
      schema: z.object({
        status: z.literal("unavailable"),
        reason: z.enum(["database unreachable", "migrations pending"]),
      }),
    },
  },
});

export const getRoot = defineRoute({
  method: "get",
  path: "/",
  operationId: "getRoot",
  summary: "The application's name, environment and version",
  tags: ["health"],
  responses: {
    200: {
      description: "Who answers",
      schema: z.object({ app: z.literal("tessera"), env: z.string(), version: z.string() }),
    },
  },
});

export const getMetrics = defineRoute({
  method: "get",
  path: "/metrics",
  operationId: "getMetrics",
  summary: "Prometheus metrics (text exposition format)",
  description: "With METRICS_TOKEN set, only `Authorization: Bearer <METRICS_TOKEN>` is answered.",
  tags: ["platform"],
  security: "metricsToken",
  responses: { 200: { description: "The metrics", media: ["text/plain"] } },
  errors: ["UNAUTHENTICATED"],
});

export const getOpenApi = defineRoute({
  method: "get",
  path: "/openapi.json",
  operationId: "getOpenApi",
  summary: "This document (OpenAPI 3.1); Swagger UI shows it at /swagger-ui",
  tags: ["platform"],
  responses: {
    200: {
      description: "The OpenAPI document of the REST surface",
      schema: z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.looseObject({}) }),
    },
  },
});

export const PLATFORM_API: readonly RouteSpec[] = [
  getRoot,
  getHealth,
  getHealthz,
  getApiHealthz,
  getReady,
  getMetrics,
  getOpenApi,
];

/** Every route of a module list: the platform's, then each module's in list order. */
export function apiSpecs(modules: readonly ModuleManifest[]): RouteSpec[] {
  return [...PLATFORM_API, ...modules.flatMap((module) => module.api ?? [])];
}
