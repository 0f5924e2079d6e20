/**
 * Rules every migration must keep, checked against a migrated database by the test suite so that
 * nobody has to remember them: RLS everywhere in app_public, indexed foreign keys, pinned
 * search_path on security definer functions, and (where the extension exists) plpgsql_check.
 */
import type pg from "pg";

const OUR_SCHEMAS = ["app_public", "app_hidden", "app_private"];

export interface GateViolation {
  gate: string;
  object: string;
  problem: string;
}

export async function checkQualityGates(client: pg.ClientBase | pg.Pool): Promise<GateViolation[]> {
  const violations: GateViolation[] = [];
  const push = (gate: string, problem: string) => (row: { object: string }) => violations.push({ gate, object: row.object, problem });

  (await client.query<{ object: string }>(`
    select format('%I.%I', n.nspname, c.relname) as object
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'app_public' and c.relkind in ('r', 'p') and not c.relrowsecurity
    order by 1`)).rows.forEach(push("rls", "row-level security is not enabled"));

  (await client.query<{ object: string }>(`
    select format('%I.%I', n.nspname, c.relname) as object
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'app_public' and c.relkind in ('r', 'p')
      and not exists (select 1 from pg_policy p where p.polrelid = c.oid)
    order by 1`)).rows.forEach(push("rls", "has no policy"));

  // A foreign key needs an index whose leading columns are exactly its columns (any order).
  (await client.query<{ object: string }>(`
    select format('%s (%s)', k.conrelid::regclass, k.conname) as object
    from pg_constraint k join pg_namespace n on n.oid = k.connamespace
    where k.contype = 'f' and n.nspname = any($1)
      and not exists (
        select 1 from pg_index i
        where i.indrelid = k.conrelid
          and (select array_agg(x order by x) from unnest((i.indkey::int2[])[0:cardinality(k.conkey) - 1]) x)
            = (select array_agg(x order by x) from unnest(k.conkey) x)
      )
    order by 1`, [OUR_SCHEMAS])).rows.forEach(push("fk-index", "foreign key has no supporting index"));

  (await client.query<{ object: string }>(`
    select p.oid::regprocedure::text as object
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = any($1) and p.prosecdef
      and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c where c like 'search_path=%')
    order by 1`, [OUR_SCHEMAS])).rows.forEach(push("security-definer", "security definer function does not pin search_path"));

  (await client.query<{ object: string }>(`
    select p.oid::regprocedure::text as object
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace, aclexplode(p.proacl) a
    where n.nspname = any($1) and a.grantee = 0
    union all
    select format('%I.%I', n.nspname, c.relname)
    from pg_class c join pg_namespace n on n.oid = c.relnamespace, aclexplode(c.relacl) a
    where n.nspname = any($1) and a.grantee = 0
    order by 1`, [OUR_SCHEMAS])).rows.forEach(push("public-grants", "granted to PUBLIC"));

  return violations;
}

export type PlpgsqlCheckOutcome = { available: false } | { available: true; violations: GateViolation[] };

/**
 * Runs plpgsql_check on every PL/pgSQL function of ours (trigger functions against their tables).
 * Needs the extension, which only a superuser can create; reports `available: false` without it.
 */
export async function runPlpgsqlCheck(superuserClient: pg.ClientBase): Promise<PlpgsqlCheckOutcome> {
  const { rowCount } = await superuserClient.query("select 1 from pg_available_extensions where name = 'plpgsql_check'");
  if (!rowCount) return { available: false };
  await superuserClient.query("create extension if not exists plpgsql_check");
  const { rows } = await superuserClient.query<{ object: string; message: string }>(`
    select p.oid::regprocedure::text as object, r.message
    from pg_proc p
    join pg_namespace n on n.oid = p.pronamespace
    join pg_language l on l.oid = p.prolang and l.lanname = 'plpgsql'
    left join lateral (
      select t.tgrelid from pg_trigger t where t.tgfoid = p.oid and not t.tgisinternal limit 1
    ) trg on true
    cross join lateral plpgsql_check_function_tb(p.oid, coalesce(trg.tgrelid, 0)) r
    where n.nspname = any($1) and r.level = 'error'
      and (p.prorettype <> 'trigger'::regtype or trg.tgrelid is not null)
    order by 1`, [OUR_SCHEMAS]);
  return { available: true, violations: rows.map((row) => ({ gate: "plpgsql_check", object: row.object, problem: row.message })) };
}
