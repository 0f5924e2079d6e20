/** The catalog as bots see it (RLS: their tenant; categories: active ones only). */
import type pg from "pg";
import type { z } from "zod";
import { prepared } from "../../platform/db/pools.ts";
import type { ListQuery } from "../../platform/http/listQuery.ts";
import { type PageCursor, pagePlan, type SortColumn } from "./paging.ts";
import type { CategoryNode, Product } from "./schemas.ts";

export async function categoryTree(db: pg.ClientBase): Promise<CategoryNode[]> {
  const { rows } = await db.query<{ id: string; parent_id: string | null; name: string; position: number }>(
    "select id, parent_id, name, position from app_public.categories order by position, name, id",
  );
  const nodes = new Map<string, CategoryNode>(
    rows.map((row) => [row.id, { id: row.id, name: row.name, position: row.position, children: [] }]),
  );
  const roots: CategoryNode[] = [];
  for (const row of rows) {
    const node = nodes.get(row.id)!;
    if (row.parent_id === null) roots.push(node);
    // A child of an inactive (hidden) category is hidden with it.
    else nodes.get(row.parent_id)?.children.push(node);
  }
  return roots;
}

export interface ProductFilter {
  category?: string;
  kind?: "goods" | "subscription";
  price?: { gte?: string; lte?: string };
  inStock?: boolean;
  text?: string;
}

const COLUMNS: Record<string, SortColumn> = {
  createdAt: { sql: "p.created_at", type: "timestamptz" },
  name: { sql: "p.name", type: "text" },
  price: { sql: "p.price", type: "numeric" },
};

interface ProductRow {
  id: string;
  category_id: string | null;
  name: string;
  description: string | null;
  price: string;
  currency: string;
  stock: number | null;
  kind: "goods" | "subscription";
  image_id: string | null;
  created_at: Date;
  sort_value: string;
}

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

export async function productPage(
  db: pg.ClientBase,
  query: ListQuery<string, ProductFilter, PageCursor>,
): Promise<{ items: Array<z.input<typeof Product>>; nextCursor: string | null }> {
  const { filter } = query;
  const plan = pagePlan("products", query, COLUMNS, "p.id");
  const params: unknown[] = [
    filter.category ?? null,
    filter.kind ?? null,
    filter.price?.gte ?? null,
    filter.price?.lte ?? null,
    filter.inStock ?? null,
    filter.text ? `%${escapeLike(filter.text)}%` : null,
    query.limit + 1,
    ...(plan.cursorValues ?? []),
  ];
  // Prepared: the text is one of a few (sort and cursor variants), parsed and planned once per connection.
  const text = `with recursive subtree as (
       select c.id from app_public.categories c where c.id = $1
       union select c.id from app_public.categories c join subtree s on c.parent_id = s.id
     ), live as (
       -- Categories reachable from a root through active ones (RLS shows a bot the active ones only).
       select c.id from app_public.categories c where c.parent_id is null
       union select c.id from app_public.categories c join live l on c.parent_id = l.id
     )
     select p.id, p.category_id, p.name, p.description, p.price::text, p.currency, p.stock, p.kind,
            i.id as image_id, p.created_at, ${plan.sortValue} as sort_value
     from app_public.products p
     left join app_public.images i on i.tenant_id = p.tenant_id and i.sha256 = p.image_sha256
     where p.active and (p.category_id is null or p.category_id in (select id from live))
       and ($1::uuid is null or p.category_id in (select id from subtree))
       and ($2::text is null or p.kind = $2)
       and ($3::numeric is null or p.price >= $3::numeric)
       and ($4::numeric is null or p.price <= $4::numeric)
       and ($5::boolean is null or (p.stock is null or p.stock > 0) = $5)
       and ($6::text is null or p.name ilike $6 or p.description ilike $6)
       ${plan.after(8, 9)}
     ${plan.orderBy}
     limit $7`;
  const { rows } = await db.query<ProductRow>(prepared(text, params));
  return plan.pageOf(rows, (row) => ({
    id: row.id,
    categoryId: row.category_id,
    name: row.name,
    description: row.description,
    price: row.price,
    currency: row.currency,
    stock: row.stock,
    kind: row.kind,
    imageUrl: row.image_id ? `/api/images/${row.image_id}` : null,
    createdAt: row.created_at.toISOString(),
  }));
}
