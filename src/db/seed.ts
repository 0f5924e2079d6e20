/**
 * Demo data for development: tenant `demo` with an owner and a member. Idempotent; refused in
 * production. Later modules append their own demo rows here.
 */
import type pg from "pg";

export const DEMO_TENANT = "demo";
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
  await client.query("begin");
  try {
    const tenant = await client.query<{ id: string }>(
      `insert into app_public.tenants (slug, name) values ($1, 'Demo')
       on conflict (slug) do update set slug = excluded.slug returning id`,
      [DEMO_TENANT],
    );
    const tenantId = tenant.rows[0]!.id;
    const users = [];
    for (const user of DEMO_USERS) {
      const { rows } = await client.query<{ id: string }>(
        `insert into app_public.users (tenant_id, email, username, full_name) values ($1, $2, $3, $4)
         on conflict (tenant_id, email) do update set email = excluded.email returning id`,
        [tenantId, user.email, user.username, user.fullName],
      );
      users.push({ id: rows[0]!.id, email: user.email, role: user.role });
    }
    await client.query("commit");
    return { tenantId, users };
  } catch (error) {
    await client.query("rollback");
    throw error;
  }
}
