/**
 * Liveness and readiness. Liveness answers while the process runs; readiness only once the
 * database answers and holds every migration this code was built with.
 */
import { Router } from "express";
import type pg from "pg";
import { migrationsAreCurrent } from "../db/migrate.ts";
import type { Logger } from "../logger.ts";

export interface HealthOptions {
  /** Pool of the request role: proves the database answers the way requests will reach it. */
  requestPool: pg.Pool;
  /** Pool of the owner role: reads graphile-migrate's bookkeeping. */
  ownerPool: pg.Pool;
  env: string;
  version: string;
  logger: Logger;
}

export function healthRoutes(options: HealthOptions): Router {
  const router = Router();
  const alive = (_req: unknown, res: { json(body: unknown): void }) => res.json({ status: "ok" });
  router.get(["/health", "/healthz", "/api/healthz"], alive);
  router.get("/", (_req, res) => {
    res.json({ app: "tessera", env: options.env, version: options.version });
  });

  // Migrations only move forward while we run, so once current they stay current.
  let migrationsCurrent = false;
  router.get("/ready", async (_req, res) => {
    try {
      await options.requestPool.query("select 1");
      migrationsCurrent ||= await migrationsAreCurrent(options.ownerPool);
      if (!migrationsCurrent) {
        res.status(503).json({ status: "unavailable", reason: "migrations pending" });
        return;
      }
      res.json({ status: "ready" });
    } catch (error) {
      options.logger.warn({ err: error }, "readiness check failed");
      res.status(503).json({ status: "unavailable", reason: "database unreachable" });
    }
  });
  return router;
}
