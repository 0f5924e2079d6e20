/**
 * Tenants and their module switches: a new tenant gets a row for every module, all on, so admins
 * have something to toggle. The tenant_created consumer does it asynchronously; the bootstrap, the
 * demo seed, test fixtures and benchmarks do it at once through prepareTenant.
 */
import type { BootstrapStep } from "../../platform/modules.ts";
import type { Queryable, SeedContext } from "../../platform/modules.ts";
import type { Consumer } from "../../platform/worker/consumers.ts";

export const DEMO_TENANT = "demo";

export async function enableAllModules(db: Queryable, tenantId: string): Promise<void> {
  await enableAllModulesOf(db, [tenantId]);
}

async function enableAllModulesOf(db: Queryable, tenantIds: readonly string[]): Promise<void> {
  await db.query(
    `insert into app_public.tenant_modules (tenant_id, module, enabled)
     select t.id, m.name, true from unnest($1::uuid[]) t(id), app_public.modules m
     order by t.id, m.name
     on conflict (tenant_id, module) do nothing`,
    [tenantIds],
  );
}

export const tenantDefaults: Consumer = {
  name: "tenant_defaults",
  handle: (client, event) => enableAllModules(client, event.tenant_id!),
  handleMany: (client, events) =>
    enableAllModulesOf(
      client,
      events.map((event) => event.tenant_id!),
    ),
};

/** Finds the tenant by slug or creates it; then prepares it (every module's prepareTenant). */
async function ensureTenant(db: Queryable, slug: string, name: string): Promise<{ id: string; created: boolean }> {
  const existing = await db.query<{ id: string }>("select id from app_public.tenants where slug = $1", [slug]);
  if (existing.rows[0]) return { id: existing.rows[0].id, created: false };
  const { rows } = await db.query<{ id: string }>(
    "insert into app_public.tenants (slug, name) values ($1, $2) returning id",
    [slug, name],
  );
  return { id: rows[0]!.id, created: true };
}

/** `npm run init`: the tenant, with its roles, permissions, system user and modules at once. */
export const tenantStep: BootstrapStep = {
  name: "tenant",
  async run(context) {
    const tenant = await ensureTenant(context.client, context.tenantSlug, context.tenantName);
    context.tenantId = tenant.id;
    context.report.push(`tenant ${context.tenantSlug}: ${tenant.created ? "created" : "exists"}`);
    await context.prepareTenant(tenant.id);
  },
};

export async function seedDemoTenant(context: SeedContext): Promise<void> {
  const tenant = await ensureTenant(context.client, DEMO_TENANT, "Demo");
  context.tenant = { id: tenant.id, slug: DEMO_TENANT };
  // The tenant_created consumers do this too; doing it here makes the seed usable at once.
  await context.prepareTenant(tenant.id);
}
