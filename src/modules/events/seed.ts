/** Demo events: one with a participant, one full (2 places, both demo users), one open. */
import type { SeedContext } from "../../platform/modules.ts";

export async function seedDemoEvents({ client, tenant, users }: SeedContext): Promise<void> {
  if (!tenant) throw new Error("the demo events need the demo tenant");
  const userIds = users.map((user) => user.id);
  const events = [
    {
      name: "Welcome meetup",
      days: 3,
      max: 30,
      description: "Meet the team and the other members.",
      participants: userIds.slice(0, 1),
    },
    {
      name: "Small workshop",
      days: 7,
      max: 2,
      description: "Hands-on session; two places only.",
      participants: userIds,
    },
    { name: "Annual conference", days: 30, max: null, description: "Talks, demos and a party.", participants: [] },
  ];
  for (const event of events) {
    const existing = await client.query<{ id: string }>(
      "select id from app_public.events where tenant_id = $1 and name = $2",
      [tenant.id, event.name],
    );
    const eventId =
      existing.rows[0]?.id ??
      (
        await client.query<{ id: string }>(
          `insert into app_public.events
           (tenant_id, name, description, starts_at, ends_at, max_participants_count, location, created_by)
         values ($1, $2, $3, date_trunc('hour', now()) + make_interval(days => $4),
                 date_trunc('hour', now()) + make_interval(days => $4, hours => 2), $5, 'Main hall', $6)
         returning id`,
          [tenant.id, event.name, event.description, event.days, event.max, userIds[0]],
        )
      ).rows[0]!.id;
    for (const userId of event.participants) {
      await client.query(
        `insert into app_public.event_participants (tenant_id, event_id, user_id) values ($1, $2, $3)
         on conflict (event_id, user_id) do nothing`,
        [tenant.id, eventId, userId],
      );
    }
  }
}
