/**
 * Builds the scale data set in its own database (bench/scale/database.ts): 1,000 tenants, 1,000,000
 * events and about 10,000,000 participants, with the users they need. Tenant sizes follow Zipf's
 * law (tenant r gets a share proportional to 1/r), so a few tenants are big and most are small.
 * Everything is generated in SQL (generate_series, ids derived with md5 so rows need no joins);
 * the event and participant indexes are dropped for the load and rebuilt after it.
 * Replaces any earlier data set. Prints how long each step took and the database's size on disk.
 * Usage: node bench/scale/generate.ts [tenants=1000] [events=1000000]
 */
import type pg from "pg";
import { MODULES } from "../../src/modules/index.ts";
import { prepareTenant } from "../../src/platform/modules.ts";
import { openScale } from "./database.ts";

const tenants = Number(process.argv[2] ?? 1000);
const events = Number(process.argv[3] ?? 1_000_000);
const scale = await openScale();
const { root } = scale;

async function step(label: string, work: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  await work();
  process.stdout.write(`${label.padEnd(44)} ${((performance.now() - started) / 1000).toFixed(1).padStart(7)} s\n`);
}

/** Runs statements on one superuser connection with settings for a bulk load. */
async function bulk(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = await root.connect();
  try {
    await client.query("set maintenance_work_mem = '512MB'; set work_mem = '256MB'");
    // Generated rows are consistent by construction: no triggers, no foreign-key checks.
    await client.query("set session_replication_role = replica");
    return await client.query(sql, params);
  } finally {
    client.release();
  }
}

const TABLES = ["app_public.event_participants", "app_public.events", "app_public.users"];

/** Drops the indexes of the loaded tables (and event_participants' keys), remembering how to rebuild them. */
const SAVE_INDEXES = `
  create table scale_indexes as
    select c.conrelid::regclass::text as tab, c.conname as name, 'constraint' as kind,
      format('alter table %s add constraint %I %s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid)) as ddl
    from pg_constraint c
    where c.conrelid = 'app_public.event_participants'::regclass and c.contype in ('p', 'u')
    union all
    select i.indrelid::regclass::text, i.indexrelid::regclass::text, 'index', pg_get_indexdef(i.indexrelid)
    from pg_index i
    where i.indrelid = any($1::regclass[])
      and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)`;

const DROP_INDEXES = `
  do $$ declare r record; begin
    for r in select * from scale_indexes loop
      if r.kind = 'constraint' then execute format('alter table %s drop constraint %I', r.tab, r.name);
      else execute format('drop index %s', r.name); end if;
    end loop;
  end $$;`;

const TENANTS = `
  create table scale_tenants as
  with weights as (
    select r, 1.0 / r as w, sum(1.0 / r) over (order by r) as upto, sum(1.0 / r) over () as total
    from generate_series(1, $1::int) r),
  bounds as (
    select r, floor($2::bigint * (upto - w) / total)::bigint as first_event,
      floor($2::bigint * upto / total)::bigint - floor($2::bigint * (upto - w) / total)::bigint as n_events
    from weights)
  select r, first_event, n_events::int, greatest(50, n_events * 10 / 20)::int as n_users,
    null::uuid as id
  from bounds`;

const USERS = `
  insert into app_public.users (id, tenant_id, email, username, full_name, created_at)
  select md5('scale-u-' || t.r || '-' || k)::uuid, t.id, 'u' || k || '@t' || t.r || '.example.test', 'u' || k,
    'User ' || k, now() - make_interval(days => k % 900)
  from scale_tenants t, generate_series(0, t.n_users - 1) k`;

// Two years back to one year ahead; every fiftieth event cancelled.
const EVENTS = `
  insert into app_public.events (id, tenant_id, name, short_description, description, starts_at, ends_at,
    max_participants_count, location, created_at, updated_at, rejected_at, rejection_reason)
  select md5('scale-e' || i)::uuid, t.id, 'Event ' || (i - t.first_event), 'Short description ' || i,
    'A longer description of event ' || i || ' for tenant ' || t.r,
    s.starts_at, s.starts_at + interval '2 hours', case when i % 3 = 0 then null else 1000 end,
    'Room ' || (i % 40), s.starts_at - interval '30 days', s.starts_at - interval '30 days',
    case when i % 50 = 0 then s.starts_at - interval '1 day' end,
    case when i % 50 = 0 then 'Cancelled' end
  from scale_tenants t, generate_series(t.first_event, t.first_event + t.n_events - 1) i,
    lateral (select date_trunc('minute', now()) - interval '730 days'
      + make_interval(secs => (i - t.first_event) * (1095.0 * 86400 / t.n_events) + (i * 7919) % 3600)) s(starts_at)`;

// Per event 0–19 participants, every thousandth event 1,000 (or the whole tenant), one in twenty rejected.
// Participant m of event i is user (i * 7 + m) mod n_users: distinct users within an event.
const PARTICIPANTS = `
  insert into app_public.event_participants (tenant_id, event_id, user_id, status, created_at)
  select t.id, md5('scale-e' || i)::uuid, md5('scale-u-' || t.r || '-' || ((i * 7 + m) % t.n_users))::uuid,
    case when (i + m) % 20 = 19 then 'REJECTED' else 'PARTICIPATING' end, now() - make_interval(days => (m % 60)::int)
  from scale_tenants t, generate_series(t.first_event, t.first_event + t.n_events - 1) i,
    generate_series(0, least(t.n_users, case when i % 1000 = 0 then 1000 else (i * 7919) % 20 end) - 1) m`;

const REBUILD = `
  do $$ declare r record; begin
    for r in select * from scale_indexes order by kind desc loop execute r.ddl; end loop;
  end $$;
  drop table scale_indexes;`;

const started = performance.now();
// Truncating the tenants empties every table that belongs to a tenant.
await step("empty the scale database", async () => {
  await bulk("drop table if exists scale_tenants; truncate app_public.tenants cascade");
  // An interrupted run left its indexes dropped: rebuild them (on empty tables) first.
  if ((await root.query("select to_regclass('scale_indexes') as t")).rows[0].t) await bulk(REBUILD);
});
await step(`${tenants} tenants (roles, modules)`, async () => {
  await bulk(TENANTS, [tenants, events]);
  await bulk("alter table scale_tenants add primary key (r)");
  await bulk(`insert into app_public.tenants (slug, name)
    select 'scale-' || lpad(r::text, 4, '0'), 'Scale tenant ' || r from scale_tenants`);
  await bulk(`update scale_tenants s set id = t.id from app_public.tenants t
    where t.slug = 'scale-' || lpad(s.r::text, 4, '0')`);
  const { rows } = await root.query<{ id: string }>("select id from scale_tenants order by r");
  for (const { id } of rows) await prepareTenant(MODULES, root, id);
});
await step("drop indexes", async () => {
  await bulk(SAVE_INDEXES, [TABLES]);
  await bulk(DROP_INDEXES);
});
await step("users", () => bulk(USERS));
await step("events", () => bulk(EVENTS));
await step("participants", () => bulk(PARTICIPANTS));
await step("rebuild indexes and keys", () => bulk(REBUILD));
await step("one member per tenant (user u0)", () =>
  bulk(`insert into app_public.user_roles (user_id, role_id)
    select md5('scale-u-' || t.r || '-0')::uuid, ro.id from scale_tenants t
    join app_public.roles ro on ro.tenant_id = t.id and ro.name = 'member'`),
);
await step("vacuum analyze", () =>
  bulk("vacuum (analyze) app_public.users, app_public.events, app_public.event_participants"),
);
const total = (performance.now() - started) / 1000;

const { rows } = await root.query(
  `select (select count(*) from app_public.tenants) as tenants, (select count(*) from app_public.users) as users,
     (select count(*) from app_public.events) as events,
     (select count(*) from app_public.event_participants) as participants,
     pg_size_pretty(pg_database_size(current_database())) as size,
     (select max(n_events) from scale_tenants) as biggest, (select min(n_events) from scale_tenants) as smallest,
     (select percentile_disc(0.5) within group (order by n_events) from scale_tenants) as median`,
);
const r = rows[0];
process.stdout.write(
  `\n${scale.name}: ${r.tenants} tenants, ${r.users} users, ${r.events} events, ${r.participants} participants` +
    `\nevents per tenant: biggest ${r.biggest}, median ${r.median}, smallest ${r.smallest}` +
    `\ngenerated in ${total.toFixed(0)} s; ${r.size} on disk\n`,
);
await scale.close();
