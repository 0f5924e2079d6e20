/**
 * Configuration that database triggers need (they cannot read the environment): each module's
 * runtime settings, written to app_private.settings when the API server starts.
 */
import type pg from "pg";
import type { Config } from "../config.ts";
import type { ModuleManifest } from "../modules.ts";

export async function applyRuntimeSettings(
  pool: pg.Pool,
  config: Config,
  modules: readonly ModuleManifest[],
): Promise<void> {
  const settings = Object.assign({}, ...modules.map((module) => module.runtimeSettings?.(config) ?? {}));
  for (const [key, value] of Object.entries(settings)) {
    await pool.query(
      `insert into app_private.settings (key, value) values ($1, to_jsonb($2::json))
       on conflict (key) do update set value = excluded.value, updated_at = now()`,
      [key, JSON.stringify(value)],
    );
  }
}
