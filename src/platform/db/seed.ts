/**
 * Demo data for development: tenant `demo` with `owner@demo.test` (owner) and `member@demo.test`
 * (member), both with the password `tessera-demo-password`, every module on, and upcoming events
 * (one full). Idempotent; refused in production. Later modules append their own demo rows here.
 */
import type pg from "pg";
import { hashPassword } from "../../modules/identity/passwords.ts";
import { prepareTenant } from "../../modules/tenancy/tenants.ts";

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
  if (isProduction) throw new Error("Refusing to seed demo data when APP_ENV is stage or prod");
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  await client.query("begin");
  try {
    const tenant = await client.query<{ id: string }>(
      `insert into app_public.tenants (slug, name) values ($1, 'Demo')
       on conflict (slug) do update set slug = excluded.slug returning id`,
      [DEMO_TENANT],
    );
    const tenantId = tenant.rows[0]!.id;
    // The tenant_created consumers do this too; doing it here makes the seed usable at once.
    await prepareTenant(client, tenantId);
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
    await seedDemoEvents(client, tenantId, users.map((user) => user.id));
    await client.query("commit");
    return { tenantId, users };
  } catch (error) {
    await client.query("rollback");
    throw error;
  }
}

/** Upcoming events: one with a participant, one full (2 places, both demo users), one open. */
async function seedDemoEvents(client: pg.ClientBase, tenantId: string, userIds: string[]): Promise<void> {
  const events = [
    { name: "Welcome meetup", days: 3, max: 30, description: "Meet the team and the other members.", participants: userIds.slice(0, 1) },
    { name: "Small workshop", days: 7, max: 2, description: "Hands-on session; two places only.", participants: userIds },
    { name: "Annual conference", days: 30, max: null, description: "Talks, demos and a party.", participants: [] },
  ];
  for (const event of events) {
    const existing = await client.query<{ id: string }>("select id from app_public.events where tenant_id = $1 and name = $2", [tenantId, event.name]);
    const eventId =
      existing.rows[0]?.id ??
      (await client.query<{ id: string }>(
        `insert into app_public.events (tenant_id, name, description, starts_at, ends_at, max_participants_count, location, created_by)
         values ($1, $2, $3, date_trunc('hour', now()) + make_interval(days => $4), date_trunc('hour', now()) + make_interval(days => $4, hours => 2), $5, 'Main hall', $6)
         returning id`,
        [tenantId, event.name, event.description, event.days, event.max, userIds[0]],
      )).rows[0]!.id;
    for (const userId of event.participants) {
      await client.query(
        "insert into app_public.event_participants (tenant_id, event_id, user_id) values ($1, $2, $3) on conflict (event_id, user_id) do nothing",
        [tenantId, eventId, userId],
      );
    }
  }
}
