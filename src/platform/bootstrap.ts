/**
 * `npm run init`: bootstrap of a tenant — the tenant, its roles and permissions, and its owner
 * user, whose password is printed once — and, only when asked (`--operator <email>`), a platform
 * operator. Idempotent: a second run finds everything and creates nothing. Each module adds its
 * step to BOOTSTRAP_STEPS (commerce: its API key, bot and store balance) without touching the
 * command.
 *
 * Nothing here gives a tenant's users power over other tenants: the tenant's owner gets the
 * tenant's built-in roles only. Platform operators (every tenant's jobs, workers' locks) are
 * named one by one from the server's command line, never through the API.
 */
import type pg from "pg";
import { hashPassword } from "../modules/identity/passwords.ts";
import { AppError } from "./errors.ts";
import { randomToken } from "./auth/secrets.ts";
import { prepareTenant } from "../modules/tenancy/tenants.ts";

export interface BootstrapContext {
  client: pg.ClientBase;
  tenantSlug: string;
  tenantName: string;
  /** The owner to create; undefined: `admin@<slug>.local`, and only if the tenant has no live owner. */
  adminEmail?: string;
  /** A user of this tenant (e-mail) to make a platform operator / to stop being one. */
  operatorEmail?: string;
  revokeOperatorEmail?: string;
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
  },
};

const adminStep: BootstrapStep = {
  name: "admin user",
  async run(context) {
    if (context.adminEmail === undefined) {
      const owner = await context.client.query<{ email: string }>(
        `select u.email from app_public.users u join app_public.user_roles ur on ur.user_id = u.id join app_public.roles r on r.id = ur.role_id
         where u.tenant_id = $1 and u.deleted_at is null and not u.is_system and r.is_builtin and r.name = 'owner' order by u.created_at limit 1`,
        [context.tenantId],
      );
      if (owner.rows[0]) {
        context.report.push(`admin: the tenant has an owner (${owner.rows[0].email}); none created`);
        return;
      }
      context.adminEmail = `admin@${context.tenantSlug}.local`;
    }
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

async function liveUserId(context: BootstrapContext, email: string): Promise<string> {
  const { rows } = await context.client.query<{ id: string }>(
    "select id from app_public.users where tenant_id = $1 and email = $2 and deleted_at is null and not is_system",
    [context.tenantId, email],
  );
  if (!rows[0]) throw new AppError("NOT_FOUND", `No user ${email} in tenant ${context.tenantSlug}.`);
  return rows[0].id;
}

/** Platform operators: only from here (the server's command line); no API writes this table. */
const operatorStep: BootstrapStep = {
  name: "platform operator",
  async run(context) {
    if (context.operatorEmail !== undefined) {
      const userId = await liveUserId(context, context.operatorEmail);
      const { rowCount } = await context.client.query("insert into app_private.platform_operators (user_id) values ($1) on conflict do nothing", [userId]);
      context.report.push(`operator ${context.operatorEmail}: ${rowCount ? "granted" : "exists"}`);
    }
    if (context.revokeOperatorEmail !== undefined) {
      const userId = await liveUserId(context, context.revokeOperatorEmail);
      const { rowCount } = await context.client.query("delete from app_private.platform_operators where user_id = $1", [userId]);
      context.report.push(`operator ${context.revokeOperatorEmail}: ${rowCount ? "revoked" : "was not an operator"}`);
    }
  },
};

/** In order. Modules append their steps here. */
export const BOOTSTRAP_STEPS: BootstrapStep[] = [tenantStep, adminStep, operatorStep];

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
