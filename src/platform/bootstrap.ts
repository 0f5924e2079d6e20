/**
 * `npm run init`: the bootstrap of a tenant, made of the steps the modules declare (the tenant, its
 * owner user whose password is printed once, a platform operator when asked…), run in module-list
 * order in one transaction. Idempotent: a second run finds everything and creates nothing.
 */
import type pg from "pg";
import { inTransaction } from "./db/pools.ts";
import { prepareTenant, type ModuleManifest } from "./modules.ts";

export interface BootstrapContext {
  client: pg.ClientBase;
  tenantSlug: string;
  tenantName: string;
  /** The command line's other options by name (`--email`, `--operator`…), for the steps that read them. */
  options: Readonly<Record<string, string | undefined>>;
  /** Filled by the tenant step, read by later steps. */
  tenantId?: string;
  /** Every module's prepareTenant: roles, permissions, module rows… of a tenant, at once. */
  prepareTenant(tenantId: string): Promise<void>;
  /** Lines to show once (secrets included), or "exists" notes. */
  report: string[];
}

export interface BootstrapStep {
  name: string;
  run(context: BootstrapContext): Promise<void>;
}

/** Runs every module's steps in one transaction: a failure leaves the database as it was. */
export async function bootstrap(
  modules: readonly ModuleManifest[],
  client: pg.ClientBase,
  options: Omit<BootstrapContext, "client" | "report" | "prepareTenant">,
): Promise<string[]> {
  const context: BootstrapContext = {
    client,
    ...options,
    report: [],
    prepareTenant: (tenantId) => prepareTenant(modules, client, tenantId),
  };
  return inTransaction(client, async () => {
    await client.query("select pg_advisory_xact_lock(7438212)");
    for (const step of modules.flatMap((module) => module.bootstrap ?? [])) await step.run(context);
    return context.report;
  });
}
