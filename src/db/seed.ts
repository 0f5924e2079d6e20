/**
 * Demo data for development: tenant `demo` with `owner@demo.test` (owner) and `member@demo.test`
 * (member), both with the password `tessera-demo-password`. Idempotent; refused in production.
 * Later modules append their own demo rows here.
 */
import type pg from "pg";
import { hashPassword } from "../auth/passwords.ts";

export const DEMO_TENANT = "demo";
export const DEMO_PASSWORD = "tessera-demo-password";
export const DEMO_USERS = [
  { email: "owner@demo.test", username: "owner", fullName: "Demo Owner", role: "owner" },
  { email: "member@demo.test", username: "member", fullName: "Demo Member", role: "member" },
] as const;

export interface DemoTenant {
  tenantId: string;
  users: Array<{ id: string; email: string; role: string }>;
}

export async function seedDemo(client: pg.ClientBase, isProduction: boolean): Promise<DemoTenant> {
  if (isProduction) throw new Error("Refusing to seed demo data when APP_ENV=prod");
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  await client.query("begin");
  try {
    const tenant = await client.query<{ id: string }>(
      `insert into app_public.tenants (slug, name) values ($1, 'Demo')
       on conflict (slug) do update set slug = excluded.slug returning id`,
      [DEMO_TENANT],
    );
    const tenantId = tenant.rows[0]!.id;
    // The tenant_created consumer does this too; doing it here makes the seed usable at once.
    await client.query("select app_private.ensure_tenant_identity($1)", [tenantId]);
    const users = [];
    for (const user of DEMO_USERS) {
      const { rows } = await client.query<{ id: string }>(
        `insert into app_public.users (tenant_id, email, username, full_name) values ($1, $2, $3, $4)
         on conflict (tenant_id, email) do update set email = excluded.email returning id`,
        [tenantId, user.email, user.username, user.fullName],
      );
      const userId = rows[0]!.id;
      await client.query(
        `insert into app_private.user_secrets (user_id, password_hash, password_changed_at) values ($1, $2, now())
         on conflict (user_id) do nothing`,
        [userId, passwordHash],
      );
      await client.query(
        `insert into app_public.user_roles (user_id, role_id)
         select $1, id from app_public.roles where tenant_id = $2 and name = $3
         on conflict do nothing`,
        [userId, tenantId, user.role],
      );
      users.push({ id: userId, email: user.email, role: user.role });
    }
    await client.query("commit");
    return { tenantId, users };
  } catch (error) {
    await client.query("rollback");
    throw error;
  }
}
