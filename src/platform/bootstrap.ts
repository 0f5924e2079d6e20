/**
 * `npm run init`: the bootstrap of a tenant, made of the steps the modules declare (the tenant, its
 * owner user whose password is printed once, a platform operator when asked…), run in module-list
 * order in one transaction. Idempotent: a second run finds everything and creates nothing.
 */
import type pg from "pg";
import { inTransaction } from "./db/pools.ts";
import { prepareTenant, type BootstrapContext, type ModuleManifest } from "./modules.ts";

/**
 * The transaction lock that `npm run init` and the demo seed take first: two runs at once (two
 * `npm run seed`, a seed beside an init) create a tenant one after the other, the second finding it.
 */
export const BOOTSTRAP_LOCK_KEY = 7438212;

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
    await client.query("select pg_advisory_xact_lock($1)", [BOOTSTRAP_LOCK_KEY]);
    for (const step of modules.flatMap((module) => module.bootstrap ?? [])) await step.run(context);
    return context.report;
  });
}
