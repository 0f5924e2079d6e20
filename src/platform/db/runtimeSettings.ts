/**
 * Configuration that database triggers need (they cannot read the environment), written to
 * app_private.settings when a server or worker starts.
 */
import type pg from "pg";
import type { Config } from "../config.ts";

export async function applyRuntimeSettings(pool: pg.Pool, config: Pick<Config, "eventReminderLeadMinutes">): Promise<void> {
  await pool.query(
    `insert into app_private.settings (key, value) values ('event_reminder_lead_minutes', to_jsonb($1::integer))
     on conflict (key) do update set value = excluded.value, updated_at = now()`,
    [config.eventReminderLeadMinutes],
  );
}
