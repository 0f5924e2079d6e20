/**
 * Demo data for development, made of the modules' seed steps in module-list order, in one
 * transaction: tenant `demo`, its users (password `tessera-demo-password`), every module on, and
 * each module's demo rows. Idempotent; refused in production.
 */
import type pg from "pg";
import type { Config } from "../config.ts";
import type { ModuleManifest, SeedContext } from "../modules.ts";
import { prepareTenant } from "../modules.ts";
import { BOOTSTRAP_LOCK_KEY } from "../bootstrap.ts";
import { inTransaction } from "./pools.ts";

export interface DemoData {
  tenantId: string;
  users: SeedContext["users"];
  /** What the start-up banner shows about the demo data. */
  banner: string[];
}

export async function seedDemo(
  modules: readonly ModuleManifest[],
  client: pg.ClientBase,
  isProduction: boolean,
  config?: Config,
): Promise<DemoData> {
  if (isProduction) throw new Error("Refusing to seed demo data when APP_ENV is stage or prod");
  const context: SeedContext = {
    client,
    users: [],
    banner: [],
    config,
    prepareTenant: (id) => prepareTenant(modules, client, id),
  };
  await inTransaction(client, async () => {
    await client.query("select pg_advisory_xact_lock($1)", [BOOTSTRAP_LOCK_KEY]);
    for (const module of modules) await module.seed?.(context);
  });
  if (!context.tenant) throw new Error("no module created the demo tenant");
  return { tenantId: context.tenant.id, users: context.users, banner: context.banner };
}
