/**
 * What a database holds, in a form two databases can be compared by: every row of every table of
 * every schema of ours (app_*, graphile_worker, graphile_migrate…), the sequences, and the catalog
 * that carries security — owners, grants, column grants, policies, default privileges. Read as the
 * superuser, so that neither row-level security nor a grant hides anything.
 */
import type pg from "pg";

const OURS = "nspname !~ '^pg_' and nspname <> 'information_schema'";

export interface Snapshot {
  /** `schema.table` → its rows as JSON text, sorted. */
  rows: Record<string, string[]>;
  sequences: Record<string, string>;
  catalog: string[];
}

export async function snapshot(rootPool: pg.Pool): Promise<Snapshot> {
  return { rows: await tableRows(rootPool), sequences: await sequences(rootPool), catalog: await catalog(rootPool) };
}

export async function tableRows(rootPool: pg.Pool): Promise<Record<string, string[]>> {
  const { rows: tables } = await rootPool.query<{ name: string }>(
    `select format('%I.%I', n.nspname, c.relname) as name from pg_class c
     join pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p') and ${OURS} order by 1`,
  );
  const result: Record<string, string[]> = {};
  for (const { name } of tables) {
    const { rows } = await rootPool.query<{ row: string }>(`select to_jsonb(t)::text as row from ${name} t order by 1`);
    result[name] = rows.map((r) => r.row);
  }
  return result;
}

async function sequences(rootPool: pg.Pool): Promise<Record<string, string>> {
  const { rows } = await rootPool.query<{ name: string; state: string }>(
    `select format('%I.%I', schemaname, sequencename) as name, coalesce(last_value::text, 'unused') as state
     from pg_sequences where schemaname !~ '^pg_' order by 1`,
  );
  return Object.fromEntries(rows.map((row) => [row.name, row.state]));
}

/** One line per object of ours that security depends on; ACLs sorted (their order is not meaning). */
async function catalog(rootPool: pg.Pool): Promise<string[]> {
  const acl = (column: string) => `(select string_agg(a::text, ',' order by a::text) from unnest(${column}) a)`;
  const { rows } = await rootPool.query<{ line: string }>(
    `select line from (
       select concat_ws(' ', 'schema', nspname, pg_get_userbyid(nspowner), ${acl("nspacl")}) as line
         from pg_namespace where ${OURS}
       union all
       select concat_ws(' ', 'relation', format('%I.%I', n.nspname, c.relname), c.relkind, pg_get_userbyid(c.relowner),
                        'rls=' || c.relrowsecurity, 'force=' || c.relforcerowsecurity, ${acl("c.relacl")})
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where ${OURS} and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
       union all
       select concat_ws(' ', 'column', format('%I.%I.%I', n.nspname, c.relname, a.attname), ${acl("a.attacl")})
         from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
        where ${OURS} and a.attacl is not null
       union all
       select concat_ws(' ', 'function',
                        format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)),
                        pg_get_userbyid(p.proowner), 'definer=' || p.prosecdef, ${acl("p.proacl")}, p.proconfig::text)
         from pg_proc p join pg_namespace n on n.oid = p.pronamespace where ${OURS}
       union all
       select concat_ws(' ', 'policy', format('%I.%I.%I', schemaname, tablename, policyname), permissive, roles::text,
                        cmd, qual, with_check)
         from pg_policies
       union all
       select concat_ws(' ', 'default', pg_get_userbyid(defaclrole), defaclnamespace::regnamespace::text,
                        defaclobjtype, ${acl("defaclacl")})
         from pg_default_acl
       union all
       select concat_ws(' ', 'extension', extname, extversion, pg_get_userbyid(extowner)) from pg_extension
     ) objects order by 1`,
  );
  return rows.map((row) => row.line);
}
