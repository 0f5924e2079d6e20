/**
 * `npm run init`: bootstrap of a fresh installation — the first (platform) tenant, its roles and
 * permissions, and its owner user, whose password is printed once. Idempotent: a second run finds
 * everything and creates nothing. Each module adds its step to BOOTSTRAP_STEPS (commerce: its API
 * key, bot and store balance) without touching the command.
 */
import type pg from "pg";
import { hashPassword } from "../auth/passwords.ts";
import { randomToken } from "../auth/secrets.ts";
import { prepareTenant } from "../db/tenants.ts";

export interface BootstrapContext {
  client: pg.ClientBase;
  tenantSlug: string;
  tenantName: string;
  adminEmail: string;
  /** Filled by the tenant step, read by later steps. */
  tenantId?: string;
  /** Lines to show once (secrets included), or "exists" notes. */
  report: string[];
}

export interface BootstrapStep {
  name: string;
  run(context: BootstrapContext): Promise<void>;
}

const tenantStep: BootstrapStep = {
  name: "tenant",
  async run(context) {
    const existing = await context.client.query<{ id: string }>("select id from app_public.tenants where slug = $1", [context.tenantSlug]);
    if (existing.rows[0]) {
      context.tenantId = existing.rows[0].id;
      context.report.push(`tenant ${context.tenantSlug}: exists`);
    } else {
      const { rows } = await context.client.query<{ id: string }>("insert into app_public.tenants (slug, name) values ($1, $2) returning id", [context.tenantSlug, context.tenantName]);
      context.tenantId = rows[0]!.id;
      context.report.push(`tenant ${context.tenantSlug}: created`);
    }
    // Roles, permissions, system user and modules: what the tenant_created consumers would do, now.
    await prepareTenant(context.client, context.tenantId);
    // The bootstrap tenant's owners operate the platform (the shared job queue).
    await context.client.query(
      `insert into app_public.role_permissions (role_id, permission)
       select id, 'jobs.manage' from app_public.roles where tenant_id = $1 and name = 'owner'
       on conflict do nothing`,
      [context.tenantId],
    );
  },
};

const adminStep: BootstrapStep = {
  name: "admin user",
  async run(context) {
    const existing = await context.client.query("select 1 from app_public.users where tenant_id = $1 and email = $2", [context.tenantId, context.adminEmail]);
    if (existing.rowCount) {
      context.report.push(`admin ${context.adminEmail}: exists (password unchanged)`);
      return;
    }
    const password = randomToken().slice(0, 24);
    const { rows } = await context.client.query<{ id: string }>(
      "insert into app_public.users (tenant_id, email, username, full_name) values ($1, $2, 'admin', 'Administrator') returning id",
      [context.tenantId, context.adminEmail],
    );
    const userId = rows[0]!.id;
    await context.client.query("insert into app_private.user_secrets (user_id, password_hash, password_changed_at) values ($1, $2, now())", [userId, await hashPassword(password)]);
    await context.client.query("insert into app_public.user_roles (user_id, role_id) select $1, id from app_public.roles where tenant_id = $2 and name = 'owner'", [userId, context.tenantId]);
    context.report.push(`admin ${context.adminEmail}: created with password ${password} (shown once; change it after signing in)`);
  },
};

/** In order. Modules append their steps here. */
export const BOOTSTRAP_STEPS: BootstrapStep[] = [tenantStep, adminStep];

/** Runs every step in one transaction: a failure leaves the database as it was. */
export async function bootstrap(client: pg.ClientBase, options: Omit<BootstrapContext, "client" | "report">): Promise<string[]> {
  const context: BootstrapContext = { client, ...options, report: [] };
  await client.query("begin");
  try {
    await client.query("select pg_advisory_xact_lock(7438212)");
    for (const step of BOOTSTRAP_STEPS) await step.run(context);
    await client.query("commit");
    return context.report;
  } catch (error) {
    await client.query("rollback");
    throw error;
  }
}
