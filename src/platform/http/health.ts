/**
 * Liveness and readiness. Liveness answers while the process runs; readiness only once the
 * database answers and holds every migration this code was built with.
 */
import type pg from "pg";
import { migrationsAreCurrent } from "../db/migrate.ts";
import type { Logger } from "../logger.ts";
import { getApiHealthz, getHealth, getHealthz, getReady, getRoot } from "./platformApi.ts";
import { implement, type Implementation } from "./routeSpec.ts";

export interface HealthOptions {
  /** Pool of the request role: proves the database answers the way requests will reach it. */
  requestPool: pg.Pool;
  /** Pool of the owner role: reads graphile-migrate's bookkeeping. */
  ownerPool: pg.Pool;
  env: string;
  version: string;
  logger: Logger;
}

/** The health routes' handlers (their specs: platformApi.ts), mounted at the root. */
export function healthImplementations(options: HealthOptions): Implementation[] {
  const alive = { status: 200 as const, body: { status: "ok" as const } };
  // Migrations only move forward while we run, so once current they stay current.
  let migrationsCurrent = false;
  return [
    implement(getHealth, () => alive),
    implement(getHealthz, () => alive),
    implement(getApiHealthz, () => alive),
    implement(getRoot, () => ({
      status: 200,
      body: { app: "tessera", env: options.env, version: options.version },
    })),
    implement(getReady, async () => {
      try {
        await options.requestPool.query("select 1");
        migrationsCurrent ||= await migrationsAreCurrent(options.ownerPool);
        if (!migrationsCurrent) return { status: 503, body: { status: "unavailable", reason: "migrations pending" } };
        return { status: 200, body: { status: "ready" } };
      } catch (error) {
        options.logger.warn({ err: error }, "readiness check failed");
        return { status: 503, body: { status: "unavailable", reason: "database unreachable" } };
      }
    }),
  ];
}
