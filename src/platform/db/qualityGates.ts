/**
 * Rules every migration must keep, checked against a migrated database by the test suite so that
 * nobody has to remember them: RLS everywhere in app_public, indexed foreign keys, pinned
 * search_path on security definer functions that check their caller, composite tenant foreign
 * keys, a module tag on every object, triggers that request roles fire running our private
 * functions as their owner, and (where the extension exists) plpgsql_check.
 */
import type pg from "pg";

const OUR_SCHEMAS = ["app_public", "app_hidden", "app_private"];

export interface GateViolation {
  gate: string;
  object: string;
  problem: string;
}

/** One rule: a query that lists the objects breaking it (as `object`). */
interface Gate {
  gate: string;
  problem: string;
  params?: unknown[];
  sql: string;
}

/** What a definer function in app_public must contain: the guard, or a read of the caller's identity. */
const READS_CALLER = [
  String.raw`app_private\.assert_module_access\(`,
  String.raw`app_public\.current_(user_id|tenant_id|session_id|user_has_permission)\(`,
  String.raw`current_setting\('jwt\.claims\.`,
].join("|");

const GATES: Gate[] = [
  {
    gate: "rls",
    problem: "row-level security is not enabled",
    sql: `
      select format('%I.%I', n.nspname, c.relname) as object
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'app_public' and c.relkind in ('r', 'p') and not c.relrowsecurity
      order by 1`,
  },
  {
    gate: "rls",
    problem: "has no policy",
    sql: `
      select format('%I.%I', n.nspname, c.relname) as object
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'app_public' and c.relkind in ('r', 'p')
        and not exists (select 1 from pg_policy p where p.polrelid = c.oid)
      order by 1`,
  },
  // A foreign key needs an index whose leading columns are exactly its columns (any order).
  {
    gate: "fk-index",
    problem: "foreign key has no supporting index",
    params: [OUR_SCHEMAS],
    sql: `
      select format('%s (%s)', k.conrelid::regclass, k.conname) as object
      from pg_constraint k join pg_namespace n on n.oid = k.connamespace
      where k.contype = 'f' and n.nspname = any($1)
        and not exists (
          select 1 from pg_index i
          where i.indrelid = k.conrelid
            and (select array_agg(x order by x) from unnest((i.indkey::int2[])[0:cardinality(k.conkey) - 1]) x)
              = (select array_agg(x order by x) from unnest(k.conkey) x)
        )
      order by 1`,
  },
  {
    gate: "security-definer",
    problem: "security definer function does not pin search_path",
    params: [OUR_SCHEMAS],
    sql: `
      select p.oid::regprocedure::text as object
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = any($1) and p.prosecdef
        and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c where c like 'search_path=%')
      order by 1`,
  },
  {
    gate: "public-grants",
    problem: "granted to PUBLIC",
    params: [OUR_SCHEMAS],
    sql: `
      select p.oid::regprocedure::text as object
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace, aclexplode(p.proacl) a
      where n.nspname = any($1) and a.grantee = 0
      union all
      select format('%I.%I', n.nspname, c.relname)
      from pg_class c join pg_namespace n on n.oid = c.relnamespace, aclexplode(c.relacl) a
      where n.nspname = any($1) and a.grantee = 0
      order by 1`,
  },
  // A definer function runs with the owner's rights: it must check who is calling, through the
  // access guard or by reading the caller's identity.
  {
    gate: "definer-guard",
    problem:
      "security definer function neither calls app_private.assert_module_access nor reads the current user or tenant",
    params: [READS_CALLER],
    // Either in its own body, or through an app_private function whose body does it (such as the
    // operations module's caller_jobs, which every job function reads).
    sql: `
      with checks_caller as (
        select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'app_private' and p.prosrc ~ $1
      )
      select p.oid::regprocedure::text as object
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'app_public' and p.prosecdef and p.prosrc !~ $1
        and not exists (select 1 from checks_caller c where strpos(p.prosrc, 'app_private.' || c.proname || '(') > 0)
      order by 1`,
  },
  // A row that copies its parent's tenant must point at the parent through (tenant_id, parent_id),
  // so the database itself refuses a row whose tenant differs from its parent's.
  {
    gate: "tenant-fk",
    problem: "foreign key to a tenant-scoped table without a composite (tenant_id, …) foreign key",
    params: [OUR_SCHEMAS],
    sql: `
      with tenant_column as (
        select a.attrelid as relid, a.attnum
        from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any($1) and c.relkind in ('r', 'p') and a.attname = 'tenant_id' and not a.attisdropped
      )
      select format('%s (%s)', k.conrelid::regclass, k.conname) as object
      from pg_constraint k
      join tenant_column child on child.relid = k.conrelid
      join tenant_column parent on parent.relid = k.confrelid
      where k.contype = 'f'
        and not (k.conkey @> array[child.attnum] and k.confkey[array_position(k.conkey, child.attnum)] = parent.attnum)
        and not exists (
          select 1 from pg_constraint c
          where c.contype = 'f' and c.conrelid = k.conrelid and c.confrelid = k.confrelid
            and cardinality(c.conkey) = cardinality(k.conkey) + 1 and c.conkey @> array[child.attnum]
            and c.confkey[array_position(c.conkey, child.attnum)] = parent.attnum
            and not exists (select 1 from unnest(k.conkey, k.confkey) as m(attnum, fattnum)
                            where c.confkey[array_position(c.conkey, m.attnum)] is distinct from m.fattnum))
      order by 1`,
  },
  // A trigger runs as whoever fired it. On a table the request roles write, one that calls our
  // private functions or the job queue must be a definer function: as the request role it failed
  // FORBIDDEN (setTenantModule switching events back on, migration 000087, fixed by 000091).
  {
    gate: "trigger-definer",
    problem: "a trigger on a table request roles write calls app_private or graphile_worker as its caller",
    sql: `
      select distinct format('%s (%s, %s)', c.oid::regclass, t.tgname, p.oid::regprocedure) as object
      from pg_trigger t
      join pg_class c on c.oid = t.tgrelid
      join pg_namespace n on n.oid = c.relnamespace
      join pg_proc p on p.oid = t.tgfoid
      where not t.tgisinternal and n.nspname = 'app_public' and not p.prosecdef
        and p.prosrc ~ '(app_private|graphile_worker)\\.'
        and exists (
          select 1 from pg_roles r
          where r.oid <> c.relowner and not r.rolsuper and r.rolname not like 'pg\\_%'
            -- tgtype's bits: 4 insert, 8 delete, 16 update.
            and ((t.tgtype & 4 <> 0 and has_any_column_privilege(r.oid, c.oid, 'INSERT'))
                 or (t.tgtype & 8 <> 0 and has_table_privilege(r.oid, c.oid, 'DELETE'))
                 or (t.tgtype & 16 <> 0 and has_any_column_privilege(r.oid, c.oid, 'UPDATE'))))
      order by 1`,
  },
  // sql/schema.sql is grouped by module: every table, view and function says which one it is.
  {
    gate: "module-tag",
    problem: "comment does not start with @module <name>",
    params: [OUR_SCHEMAS],
    sql: `
      select format('%I.%I', n.nspname, c.relname) as object
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = any($1) and c.relkind in ('r', 'p', 'v')
        and coalesce(obj_description(c.oid, 'pg_class'), '') !~ '^@module [a-z_]+'
      union all
      select p.oid::regprocedure::text
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = any($1) and p.prokind in ('f', 'p')
        and coalesce(obj_description(p.oid, 'pg_proc'), '') !~ '^@module [a-z_]+'
      order by 1`,
  },
];

export async function checkQualityGates(client: pg.ClientBase | pg.Pool): Promise<GateViolation[]> {
  const violations: GateViolation[] = [];
  for (const { gate, problem, params, sql } of GATES) {
    const { rows } = await client.query<{ object: string }>(sql, params ?? []);
    violations.push(...rows.map((row) => ({ gate, object: row.object, problem })));
  }
  return violations;
}

export type PlpgsqlCheckOutcome = { available: false } | { available: true; violations: GateViolation[] };

/**
 * Runs plpgsql_check on every PL/pgSQL function of ours (trigger functions against their tables and
 * transition tables).
 * Needs the extension, which only a superuser can create; reports `available: false` without it.
 */
export async function runPlpgsqlCheck(superuserClient: pg.ClientBase): Promise<PlpgsqlCheckOutcome> {
  const { rowCount } = await superuserClient.query(
    "select 1 from pg_available_extensions where name = 'plpgsql_check'",
  );
  if (!rowCount) return { available: false };
  await superuserClient.query("create extension if not exists plpgsql_check");
  const { rows } = await superuserClient.query<{ object: string; message: string }>(
    `
    select p.oid::regprocedure::text as object, r.message
    from pg_proc p
    join pg_namespace n on n.oid = p.pronamespace
    join pg_language l on l.oid = p.prolang and l.lanname = 'plpgsql'
    left join lateral (
      select t.tgrelid, t.tgoldtable, t.tgnewtable
      from pg_trigger t where t.tgfoid = p.oid and not t.tgisinternal limit 1
    ) trg on true
    -- A statement trigger's transition tables (REFERENCING OLD/NEW TABLE) are named to the check.
    cross join lateral plpgsql_check_function_tb(p.oid, coalesce(trg.tgrelid, 0),
                                                 oldtable => trg.tgoldtable, newtable => trg.tgnewtable) r
    where n.nspname = any($1) and r.level = 'error'
      and (p.prorettype <> 'trigger'::regtype or trg.tgrelid is not null)
    order by 1`,
    [OUR_SCHEMAS],
  );
  return {
    available: true,
    violations: rows.map((row) => ({ gate: "plpgsql_check", object: row.object, problem: row.message })),
  };
}
