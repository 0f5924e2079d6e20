/**
 * What a new tenant needs before anyone can use it: its built-in roles, permissions and system
 * user, and a row per module (all on). The tenant_created consumers do this asynchronously; the
 * bootstrap, the demo seed, test fixtures and benchmarks call the same functions synchronously.
 */
import type pg from "pg";

type Queryable = pg.Pool | pg.ClientBase;

export async function ensureTenantIdentity(db: Queryable, tenantId: string): Promise<void> {
  await db.query("select app_private.ensure_tenant_identity($1)", [tenantId]);
}

export async function enableAllModules(db: Queryable, tenantId: string): Promise<void> {
  await db.query(
    `insert into app_public.tenant_modules (tenant_id, module, enabled)
     select $1, name, true from app_public.modules
     on conflict (tenant_id, module) do nothing`,
    [tenantId],
  );
}

/** Both of the above: a tenant ready for use at once. Idempotent. */
export async function prepareTenant(db: Queryable, tenantId: string): Promise<void> {
  await ensureTenantIdentity(db, tenantId);
  await enableAllModules(db, tenantId);
}
