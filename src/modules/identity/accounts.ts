/**
 * Accounts made outside the API: the bootstrap's owner (`npm run init`) and the demo users. One
 * function creates a user with a password and a built-in role, idempotently.
 */
import { AppError } from "../../platform/errors.ts";
import { randomToken } from "../../platform/auth/secrets.ts";
import type { BootstrapStep } from "../../platform/modules.ts";
import type { Queryable, SeedContext } from "../../platform/modules.ts";
import { hashPassword } from "./passwords.ts";

export const DEMO_PASSWORD = "tessera-demo-password";
export const DEMO_USERS = [
  { email: "owner@demo.test", username: "owner", fullName: "Demo Owner", role: "owner" },
  { email: "member@demo.test", username: "member", fullName: "Demo Member", role: "member" },
] as const;

export interface NewAccount {
  tenantId: string;
  email: string;
  username: string;
  fullName: string;
  passwordHash: string;
  /** A built-in role of the tenant: owner, admin, manager or member. */
  role: string;
}

/** Creates the user, or finds it by e-mail; the password is set only when the user is new. */
export async function ensureAccount(db: Queryable, account: NewAccount): Promise<string> {
  const { rows } = await db.query<{ id: string }>("select app_private.ensure_account($1, $2, $3, $4, $5, $6) as id", [
    account.tenantId,
    account.email,
    account.username,
    account.fullName,
    account.passwordHash,
    account.role,
  ]);
  return rows[0]!.id;
}

/** `npm run init`: the tenant's owner (`--email`, or `admin@<slug>.local` when it has no live owner). */
export const ownerStep: BootstrapStep = {
  name: "admin user",
  async run(context) {
    let email = context.options.email;
    if (email === undefined) {
      const owner = await context.client.query<{ email: string }>(
        `select u.email from app_public.users u
         join app_public.user_roles ur on ur.user_id = u.id join app_public.roles r on r.id = ur.role_id
         where u.tenant_id = $1 and u.deleted_at is null and not u.is_system and r.is_builtin and r.name = 'owner'
         order by u.created_at limit 1`,
        [context.tenantId],
      );
      if (owner.rows[0]) {
        context.report.push(`admin: the tenant has an owner (${owner.rows[0].email}); none created`);
        return;
      }
      email = `admin@${context.tenantSlug}.local`;
    }
    // Roles are not init's to change: an existing user who is no owner is refused, not reported as the admin.
    const existing = await context.client.query<{ roles: string[] }>(
      `select coalesce(array_agg(r.name order by r.name) filter (where r.id is not null), '{}') as roles
       from app_public.users u
       left join app_public.user_roles ur on ur.user_id = u.id left join app_public.roles r on r.id = ur.role_id
       where u.tenant_id = $1 and u.email = $2 group by u.id`,
      [context.tenantId, email],
    );
    const roles = existing.rows[0]?.roles;
    if (roles?.includes("owner")) {
      context.report.push(`admin ${email}: exists (password unchanged)`);
      return;
    }
    if (roles) {
      const held = roles.length > 0 ? roles.join(", ") : "no role";
      throw new AppError(
        "CONFLICT",
        `${email} exists in ${context.tenantSlug} as ${held}, not as an owner; init changes no roles: ` +
          "name another e-mail.",
      );
    }
    const password = randomToken().slice(0, 24);
    const passwordHash = await hashPassword(password);
    await ensureAccount(context.client, {
      tenantId: context.tenantId!,
      email,
      username: await freeUsername(context.client, context.tenantId!, email),
      fullName: "Administrator",
      passwordHash,
      role: "owner",
    });
    context.report.push(`admin ${email}: created with password ${password} (shown once; change it after signing in)`);
  },
};

/**
 * A username for a new owner: the e-mail's local part made to fit the username rule (2–64 of
 * A–Z a–z 0–9 _ . -), with a number added when the tenant already has it.
 */
async function freeUsername(db: Queryable, tenantId: string, email: string): Promise<string> {
  const base = (email.split("@")[0] ?? "")
    .replace(/[^A-Za-z0-9_.-]/g, "_")
    .slice(0, 48)
    .padEnd(2, "_");
  const { rows } = await db.query<{ username: string }>(
    `select candidate as username
     from (select $2::text as candidate, 0 as n union all select $2 || '-' || n, n from generate_series(2, 999) n) c
     where not exists (select 1 from app_public.users u where u.tenant_id = $1 and u.username = c.candidate::citext)
     order by n limit 1`,
    [tenantId, base],
  );
  return rows[0]?.username ?? `${base}-${Date.now()}`;
}

/** Demo users: an owner and a member, both with DEMO_PASSWORD. */
export async function seedDemoUsers(context: SeedContext): Promise<void> {
  const tenant = context.tenant;
  if (!tenant) throw new Error("the demo users need the demo tenant");
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  for (const user of DEMO_USERS) {
    const id = await ensureAccount(context.client, { tenantId: tenant.id, passwordHash, ...user });
    context.users.push({ id, email: user.email, role: user.role });
  }
  const who = context.users.map((user) => `${user.email} (${user.role})`).join(", ");
  context.banner.push(`tenant "${tenant.slug}": ${who}, password ${DEMO_PASSWORD}`);
}
