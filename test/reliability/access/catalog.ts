/**
 * What the access matrix knows about the schema, read from pg_catalog when a test runs (never a
 * hard-coded list): every relation of a schema, its `@module` tag, its columns, primary key and
 * foreign keys, and how to tell which tenant a row belongs to — its `tenant_id`, `tenants.id`
 * itself, or the tenant of the row a foreign key points at (`role_permissions.role_id` → `roles`).
 */
import type pg from "pg";

export interface Column {
  name: string;
  /** format_type(): `uuid`, `text`, `timestamp with time zone`… */
  type: string;
  /** Generated (identity always, or a generated column): never written by an INSERT. */
  generated: boolean;
}

export interface ForeignKey {
  name: string;
  columns: string[];
  /** Schema-qualified referenced relation. */
  target: string;
  targetColumns: string[];
}

export interface Relation {
  /** Schema-qualified (quoted where needed), e.g. `app_public.events`. */
  name: string;
  schema: string;
  table: string;
  kind: "table" | "view";
  /** The first line's `@module <name>` of the relation's comment. */
  module?: string;
  /** Its `@name` smart tag: the name PostGraphile uses instead of the table's (`subscriptions`). */
  graphqlName?: string;
  columns: Column[];
  /** Primary key columns; empty for a view or a table without one (rows are then told apart by their text). */
  primaryKey: string[];
  foreignKeys: ForeignKey[];
}

export const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
const simple = (name: string) => (/^[a-z_][a-z0-9_]*$/.test(name) ? name : quote(name));
export const qualified = (schema: string, table: string) => `${simple(schema)}.${simple(table)}`;
export const column = (alias: string, name: string) => `${alias}.${quote(name)}`;

/** Every table and view of the schemas, with columns, primary key and foreign keys. */
export async function readRelations(client: pg.ClientBase, schemas: string[]): Promise<Relation[]> {
  const { rows } = await client.query<{
    schema: string;
    table: string;
    relkind: string;
    module: string | null;
    graphql_name: string | null;
    columns: Column[];
    primary_key: string[] | null;
    foreign_keys: Array<Omit<ForeignKey, "target"> & { targetSchema: string; targetTable: string }> | null;
  }>(
    `select n.nspname as schema, c.relname as table, c.relkind,
            substring(obj_description(c.oid, 'pg_class') from '^@module ([a-z_]+)') as module,
            substring(obj_description(c.oid, 'pg_class') from '(?:^|\n)@name ([a-z_]+)') as graphql_name,
            (select json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
                                               'generated', a.attidentity = 'a' or a.attgenerated <> '')
                             order by a.attnum)
             from pg_attribute a where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped) as columns,
            (select array_agg(a.attname::text order by k.ord)
             from pg_index i, unnest(i.indkey) with ordinality k(attnum, ord), pg_attribute a
             where i.indrelid = c.oid and i.indisprimary and a.attrelid = c.oid and a.attnum = k.attnum)
              as primary_key,
            (select json_agg(json_build_object(
                      'name', f.conname,
                      'columns', (select array_agg(a.attname order by k.ord)
                                  from unnest(f.conkey) with ordinality k(attnum, ord)
                                  join pg_attribute a on a.attrelid = f.conrelid and a.attnum = k.attnum),
                      'targetSchema', tn.nspname, 'targetTable', tc.relname,
                      'targetColumns', (select array_agg(a.attname order by k.ord)
                                        from unnest(f.confkey) with ordinality k(attnum, ord)
                                        join pg_attribute a on a.attrelid = f.confrelid and a.attnum = k.attnum))
                    order by f.conname)
             from pg_constraint f join pg_class tc on tc.oid = f.confrelid
             join pg_namespace tn on tn.oid = tc.relnamespace
             where f.conrelid = c.oid and f.contype = 'f') as foreign_keys
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = any($1) and c.relkind in ('r', 'p', 'v', 'm', 'f') and not c.relispartition
     order by n.nspname, c.relname`,
    [schemas],
  );
  return rows.map((row) => ({
    name: qualified(row.schema, row.table),
    schema: row.schema,
    table: row.table,
    kind: row.relkind === "v" || row.relkind === "m" ? "view" : "table",
    module: row.module ?? undefined,
    graphqlName: row.graphql_name ?? undefined,
    columns: row.columns,
    primaryKey: row.primary_key ?? [],
    foreignKeys: (row.foreign_keys ?? []).map(({ targetSchema, targetTable, ...key }) => ({
      ...key,
      target: qualified(targetSchema, targetTable),
    })),
  }));
}

/**
 * How to find a row's tenant. `expression(alias)` is SQL giving the tenant id of the row `alias`
 * of the relation; `columns` are the row's own columns that decide it (whoever writes them chooses
 * the tenant). Undefined for a relation shared by every tenant (the module catalogue).
 */
export interface Tenancy {
  expression(alias: string): string;
  columns: string[];
}

/** The tenancy of every relation that has one, derived from columns and foreign keys. */
export function tenancies(relations: Relation[]): Map<string, Tenancy> {
  const byName = new Map(relations.map((relation) => [relation.name, relation]));
  const found = new Map<string, Tenancy>();
  const derive = (relation: Relation, depth: number): Tenancy | undefined => {
    if (relation.schema === "app_public" && relation.table === "tenants") {
      return { expression: (alias) => column(alias, "id"), columns: ["id"] };
    }
    if (relation.columns.some((c) => c.name === "tenant_id")) {
      return { expression: (alias) => column(alias, "tenant_id"), columns: ["tenant_id"] };
    }
    if (depth >= 3) return undefined;
    for (const key of relation.foreignKeys) {
      const target = byName.get(key.target);
      const through = target && derive(target, depth + 1);
      if (!target || !through) continue;
      const inner = `t${depth}`;
      return {
        expression: (alias) => {
          const join = key.columns
            .map((name, i) => `${column(inner, key.targetColumns[i]!)} = ${column(alias, name)}`)
            .join(" and ");
          return `(select ${through.expression(inner)} from ${target.name} ${inner} where ${join})`;
        },
        columns: key.columns,
      };
    }
    return undefined;
  };
  for (const relation of relations) {
    const tenancy = derive(relation, 0);
    if (tenancy) found.set(relation.name, tenancy);
  }
  return found;
}

/**
 * SQL for a row's identity as JSON (its primary key, or for a relation without one its whole text),
 * and a condition matching the rows whose identity is in the JSON array `$param`.
 */
export function identity(relation: Relation): {
  select(alias: string): string;
  matches(alias: string, param: string): string;
} {
  if (relation.primaryKey.length === 0) {
    return {
      select: (alias) => `to_jsonb(${alias}::text)`,
      matches: (alias, param) => `${alias}::text in (select jsonb_array_elements_text(${param}::jsonb))`,
    };
  }
  const keys = relation.primaryKey.map((name) => relation.columns.find((c) => c.name === name)!);
  return {
    select: (alias) => `jsonb_build_object(${keys.map((k) => `'${k.name}', ${column(alias, k.name)}`).join(", ")})`,
    matches: (alias, param) => {
      const tuple = keys.map((k) => column(alias, k.name)).join(", ");
      const record = keys.map((k) => `${quote(k.name)} ${k.type}`).join(", ");
      return `(${tuple}) in (select ${keys.map((k) => column("k", k.name)).join(", ")}
                             from jsonb_to_recordset(${param}::jsonb) as k(${record}))`;
    },
  };
}
