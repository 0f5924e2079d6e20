/** Shared set-up of the benchmarks: the configured (or embedded) database, a tenant, users, tokens. */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import pg from "pg";
import { hashPassword } from "../src/modules/identity/passwords.ts";
import { randomToken, sha256 } from "../src/platform/auth/secrets.ts";
import { signAccessToken } from "../src/platform/auth/tokens.ts";
import { loadConfig, MODULES } from "../src/modules/index.ts";
import type { Config } from "../src/platform/config.ts";
import { migrateDatabase } from "../src/platform/db/migrate.ts";
import { resolveDatabase, type ResolvedDatabase } from "../src/platform/db/resolve.ts";
import { prepareTenant } from "../src/platform/modules.ts";
import { createLogger, type Logger } from "../src/platform/logger.ts";

export interface Bench {
  config: Config;
  logger: Logger;
  database: ResolvedDatabase;
  /** Owner-role pool for set-up queries. */
  owner: pg.Pool;
  close(): Promise<void>;
}

export async function openBench(): Promise<Bench> {
  const logger = createLogger("warn");
  const config = loadConfig();
  const database = await resolveDatabase(config, logger);
  await migrateDatabase(database.urls, logger);
  const owner = new pg.Pool({ connectionString: database.urls.ownerUrl });
  return {
    config,
    logger,
    database,
    owner,
    async close() {
      await owner.end();
      await database.stop();
    },
  };
}

/** A tenant ready for use (roles, modules); reused if it exists. */
export async function benchTenant(bench: Bench, slug: string): Promise<string> {
  const { rows } = await bench.owner.query<{ id: string }>(
    `insert into app_public.tenants (slug, name) values ($1, $2)
     on conflict (slug) do update set name = excluded.name returning id`,
    [slug, slug],
  );
  await prepareTenant(MODULES, bench.owner, rows[0]!.id);
  return rows[0]!.id;
}

/** A user with a built-in role (and a password, if given); reused if the e-mail exists. */
export async function benchUser(
  bench: Bench,
  tenantId: string,
  username: string,
  role: string,
  password?: string,
): Promise<string> {
  const { rows } = await bench.owner.query<{ id: string }>(
    `insert into app_public.users (tenant_id, email, username) values ($1, $2, $3)
     on conflict (tenant_id, email) do update set email = excluded.email returning id`,
    [tenantId, `${username}@example.test`, username],
  );
  const userId = rows[0]!.id;
  await bench.owner.query(
    `insert into app_public.user_roles (user_id, role_id)
     select $1, id from app_public.roles where tenant_id = $2 and name = $3 on conflict do nothing`,
    [userId, tenantId, role],
  );
  if (password) {
    await bench.owner.query(
      `insert into app_private.user_secrets (user_id, password_hash) values ($1, $2)
       on conflict (user_id) do update
       set password_hash = excluded.password_hash, totp_secret = null, totp_enabled_at = null`,
      [userId, await hashPassword(password)],
    );
  }
  return userId;
}

/** A live session for the user and an access token for it. */
export async function benchSession(
  bench: Bench,
  userId: string,
  tenantId: string,
  role: string,
): Promise<{ sessionId: string; token: string }> {
  const { rows } = await bench.owner.query<{ id: string }>(
    "select app_private.create_session($1, $2, interval '1 day', 'bench', null) as id",
    [userId, sha256(randomToken())],
  );
  const sessionId = rows[0]!.id;
  return {
    sessionId,
    token: signAccessToken(
      { sub: userId, tid: tenantId, sid: sessionId, jti: randomUUID(), role },
      bench.config.jwtSecret,
      3600,
    ),
  };
}

/** 40 upcoming events (at most 100 participants each) and 200 users taking part in about a quarter of them. */
export async function benchEvents(bench: Bench, tenantId: string): Promise<void> {
  if ((await bench.owner.query("select 1 from app_public.events where tenant_id = $1", [tenantId])).rowCount) return;
  await bench.owner.query(
    `insert into app_public.events (tenant_id, name, description, starts_at, ends_at, max_participants_count)
     select $1, 'Event ' || i, 'Description of event ' || i,
       now() + make_interval(days => i), now() + make_interval(days => i, hours => 2), 100
     from generate_series(1, 40) i`,
    [tenantId],
  );
  await bench.owner.query(
    `with people as (insert into app_public.users (tenant_id, email, username)
       select $1, 'p' || i || '@example.test', 'p' || i from generate_series(1, 200) i returning id)
     insert into app_public.event_participants (tenant_id, event_id, user_id)
     select $1, e.id, p.id from app_public.events e, people p
     where e.tenant_id = $1 and (hashtext(e.id::text || p.id::text) % 4) = 0`,
    [tenantId],
  );
}

/**
 * A store for the bot API: two categories, `products` active products, an active bot and an API
 * key of the tenant (its secret answered, as an admin would see it once).
 */
export async function benchStore(
  bench: Bench,
  tenantId: string,
  products: number,
): Promise<{ apiKey: string; botId: string }> {
  const { owner } = bench;
  if (!(await owner.query("select 1 from app_public.products where tenant_id = $1", [tenantId])).rowCount) {
    await owner.query(
      `with shelves as (insert into app_public.categories (tenant_id, name, position)
         values ($1, 'Goods', 1), ($1, 'Plans', 2) returning id, position)
       insert into app_public.products (tenant_id, category_id, name, description, price, stock, kind, created_at)
       select $1, s.id, 'Product ' || i, 'Description of product ' || i, 1 + i % 50, nullif(i % 7, 0),
         case when s.position = 1 then 'goods' else 'subscription' end, now() - make_interval(mins => i)
       from generate_series(1, $2) i join shelves s on s.position = 1 + i % 2`,
      [tenantId, products],
    );
  }
  const bot = await owner.query<{ id: string }>(
    `with found as (select id from app_public.bots where tenant_id = $1 and name = 'bench bot'),
          made as (insert into app_public.bots (tenant_id, name) select $1, 'bench bot'
                   where not exists (select 1 from found) returning id)
     select id from found union all select id from made`,
    [tenantId],
  );
  const apiKey = `tsk_bench_${randomToken()}`;
  await owner.query(
    `with made as (insert into app_public.api_keys (tenant_id, name, prefix)
       values ($1, 'bench', left($2, 12)) returning id)
     insert into app_private.api_key_secrets (api_key_id, secret_hash) select id, $3 from made`,
    [tenantId, apiKey, sha256(apiKey)],
  );
  return { apiKey, botId: bot.rows[0]!.id };
}

/** What one wrk run measured (latencies in milliseconds). */
export interface WrkResult {
  rps: number;
  p50Ms?: number;
  p99Ms?: number;
  requests: number;
  /** Responses with a status other than 2xx or 3xx. */
  non2xx: number;
}

/** Load from wrk (a separate process; this one's event loop stays free): 2 threads, the given Lua script. */
export async function runWrk(luaPath: string, url: string, seconds: number, connections: number): Promise<WrkResult> {
  const { stdout: out } = await promisify(execFile)("wrk", [
    "-t2",
    `-c${connections}`,
    `-d${seconds}s`,
    "--latency",
    "-s",
    luaPath,
    url,
  ]);
  const ms = (name: string) => {
    const match = new RegExp(`${name}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    if (!match) return undefined;
    const value = Number(match[1]);
    return match[2] === "us" ? value / 1000 : match[2] === "s" ? value * 1000 : value;
  };
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0),
    p50Ms: ms("50"),
    p99Ms: ms("99"),
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0),
  };
}
