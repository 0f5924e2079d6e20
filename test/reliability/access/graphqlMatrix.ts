/**
 * The access matrix through GraphQL: that the API adds no hole to what the database allows. The
 * schema is the running server's answer to the introspection query (never a hard-coded list of
 * fields); every root Query field and every Mutation field is called as anonymous and as the
 * member, manager, admin and owner of tenant A (bots use REST, not GraphQL), with tenant B's data
 * as the bait. Self-checks first: tenant A's owner must find tenant A's rows through `node(id:)` and
 * through every lookup field, so that finding nothing of tenant B means something.
 *
 * - queries: list and connection fields without arguments, and every lookup field with rows of
 *   tenant B (its `rowId`, its node `id`, or its unique columns taken from B's row), selecting every
 *   field of the rows and of the rows they lead to; `node(id:)` with the node id of every row of
 *   tenant B. No answer may hold tenant B's data: the ids of its rows, their node ids, its tenant id
 *   or its slug (B's people's e-mails and usernames carry it).
 * - mutations: every ID / UUID argument (nested in inputs, optional ones too) filled with the id of
 *   a tenant B row of a plausible table (`eventId` → events, the `id` of `cancelBroadcast` →
 *   broadcasts, a category's `parentId` → the table its foreign key names…), the others with
 *   valid-looking values; with two or more such arguments, also once per argument with B's id there
 *   and tenant A's ids elsewhere (tenant A's chat, tenant B's user). Each call must leave a digest of
 *   every row of tenant B (app_public, app_private, its graphile-worker jobs) unchanged, hold none
 *   of B's data, answer only codes that docs/errors.md documents, and answer exactly as the same call
 *   does with ids that exist nowhere (else the answer tells whether another tenant's row exists).
 *   An answer without an error is accepted only that way (the generated updates answer a null row
 *   for any row the caller cannot change) and is listed in `nullAnswers`.
 * - finally, no row anywhere points at a row of another tenant (every foreign key between tables
 *   whose rows have a tenant).
 *
 * Each user-role call runs with a fresh session of that person, so a mutation that ends the session
 * (logout) cannot blind the calls after it.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type IntrospectionQuery,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isUnionType,
} from "postgraphile/graphql";
import type pg from "pg";
import { projectRoot } from "../../../src/platform/paths.ts";
import { startTestApp, type TestApp } from "../../helpers/app.ts";
import { mintToken } from "../../helpers/fixtures.ts";
import type { SqlUser } from "../../helpers/sql.ts";
import { type Relation, column, readRelations, tenancies, type Tenancy } from "./catalog.ts";
import { crossTenantReferences } from "./matrix.ts";
import { createSeededTenant, type SeededTenant } from "./seed.ts";

export const GRAPHQL_ROLES = ["anonymous", "member", "manager", "admin", "owner"] as const;
export type GraphqlRole = (typeof GRAPHQL_ROLES)[number];

/**
 * Mutation arguments whose name says nothing of their table (checked: an argument the matrix cannot
 * place is a failure asking for a line here).
 */
const ARGUMENT_TABLES: Record<string, string> = {
  memberIds: "app_public.users",
  replyToId: "app_public.messages",
};

/** Stands for graphile-worker's jobs, whose tenant is in their payload (app_private.job_tenants). */
const JOBS = "graphile_worker.jobs";

export interface GraphqlMatrixResult {
  problems: string[];
  /**
   * Mutation calls with tenant B's ids that answered without an error — the same answer as for ids
   * that exist nowhere, nothing of B changed (the generated updates' null row).
   */
  nullAnswers: string[];
  /** Requests sent, by kind. */
  counts: { queries: number; nodeLookups: number; mutations: number };
  /** The codes mutation calls with tenant B's ids answered, and how often ("none": no error). */
  mutationCodes: Record<string, number>;
}

interface TenantRows {
  /** Rows of the tenant by relation, as JSON. */
  rows: Map<string, Record<string, unknown>[]>;
  jobs: string[];
}

interface Context {
  app: TestApp;
  schema: GraphQLSchema;
  root: pg.PoolClient;
  relations: Map<string, Relation>;
  tenancyOf: Map<string, Tenancy>;
  typeOfTable: Map<string, string>;
  tableOfType: Map<string, string>;
  a: SeededTenant;
  b: SeededTenant;
  rowsOf: { A: TenantRows; B: TenantRows };
  /** Strings that only tenant B's data contains. */
  markers: Map<string, string>;
  documented: Set<string>;
  problems: string[];
  counts: GraphqlMatrixResult["counts"];
  /** Mutations that answered B's ids without an error, as they answer ids that exist nowhere. */
  nullAnswers: string[];
  mutationCodes: Record<string, number>;
  fields: (name: string) => boolean;
  /** Tenant B's digest after the last mutation field's calls (the next field's "before"). */
  digest?: Map<string, string>;
}

/** The codes of docs/errors.md's table. */
export function documentedCodes(): Set<string> {
  const text = readFileSync(join(projectRoot, "docs", "errors.md"), "utf8");
  return new Set([...text.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]!));
}

export interface GraphqlMatrixOptions {
  /** Only the root fields (and `node` lookups) whose names pass; every field when absent. */
  fields?: (name: string) => boolean;
  /** Which half to run (two test files run side by side); both when absent. */
  only?: "queries" | "mutations";
}

export async function runGraphqlMatrix(
  app: TestApp,
  a: SeededTenant,
  b: SeededTenant,
  options: GraphqlMatrixOptions = {},
): Promise<GraphqlMatrixResult> {
  const schema = await introspect(app);
  const root = await app.db.rootPool.connect();
  try {
    const all = await readRelations(root, ["app_public", "app_private"]);
    const relations = new Map(all.map((r) => [r.name, r]));
    const tenancyOf = tenancies(all);
    const context: Context = {
      app,
      schema,
      root,
      relations,
      tenancyOf,
      typeOfTable: new Map(),
      tableOfType: new Map(),
      a,
      b,
      rowsOf: { A: await tenantRows(root, all, tenancyOf, a.id), B: await tenantRows(root, all, tenancyOf, b.id) },
      markers: new Map(),
      documented: documentedCodes(),
      problems: [],
      nullAnswers: [],
      mutationCodes: {},
      counts: { queries: 0, nodeLookups: 0, mutations: 0 },
      fields: options.fields ?? (() => true),
    };
    mapTypes(context, all);
    collectMarkers(context);
    if (options.only !== "mutations") {
      await checkNodeIds(context);
      await checkLookups(context);
      // Queries read only: the roles go side by side.
      await Promise.all(GRAPHQL_ROLES.map((role) => checkQueries(context, role)));
    }
    if (options.only !== "queries") {
      // Mutations one at a time, so that a change of tenant B's rows is pinned on one field and role.
      for (const role of GRAPHQL_ROLES) await checkMutations(context, role);
      context.problems.push(...(await crossTenantReferences(root, all, tenancyOf)));
    }
    return {
      problems: context.problems,
      counts: context.counts,
      nullAnswers: context.nullAnswers,
      mutationCodes: context.mutationCodes,
    };
  } finally {
    root.release();
  }
}

/** The schema as a client sees it: the server's answer to the standard introspection query. */
async function introspect(app: TestApp): Promise<GraphQLSchema> {
  const { status, body } = await app.graphql(getIntrospectionQuery());
  if (status !== 200 || !body.data) throw new Error(`introspection failed: ${status} ${JSON.stringify(body.errors)}`);
  return buildClientSchema(body.data as unknown as IntrospectionQuery);
}

// ---------------------------------------------------------------------------------------------
// Tenant data, types, node ids, markers

async function tenantRows(
  root: pg.PoolClient,
  relations: Relation[],
  tenancyOf: Map<string, Tenancy>,
  tenantId: string,
): Promise<TenantRows> {
  const rows = new Map<string, Record<string, unknown>[]>();
  for (const relation of relations) {
    const tenancy = tenancyOf.get(relation.name);
    if (!tenancy || relation.kind !== "table") continue;
    const order = relation.primaryKey.map((k) => column("r", k)).join(", ") || "1";
    const result = await root.query<{ row: Record<string, unknown> }>(
      `select to_jsonb(r) as row from ${relation.name} r where ${tenancy.expression("r")} = $1 order by ${order}`,
      [tenantId],
    );
    rows.set(
      relation.name,
      result.rows.map((r) => r.row),
    );
  }
  const jobs = await root.query<{ id: string }>(
    "select id::text from app_private.job_tenants where tenant_id = $1 order by id",
    [tenantId],
  );
  return { rows, jobs: jobs.rows.map((r) => r.id) };
}

const pascal = (snake: string) => snake.replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase());
const singular = (word: string) => (word.endsWith("ies") ? `${word.slice(0, -3)}y` : word.replace(/s$/, ""));
const snake = (camel: string) => camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`).replace(/^_/, "");

/** Which GraphQL type each table of app_public is (simplify-inflection: singular, PascalCase, `@name`). */
function mapTypes(context: Context, relations: Relation[]): void {
  for (const relation of relations) {
    if (relation.schema !== "app_public") continue;
    const type = pascal(singular(relation.graphqlName ?? relation.table));
    if (!isObjectType(context.schema.getType(type))) {
      context.problems.push(`${relation.name}: no GraphQL type ${type} (the matrix cannot place its rows)`);
      continue;
    }
    context.typeOfTable.set(relation.name, type);
    context.tableOfType.set(type, relation.name);
  }
}

function nodeId(context: Context, table: string, row: Record<string, unknown>): string | undefined {
  const type = context.typeOfTable.get(table);
  const key = context.relations.get(table)!.primaryKey;
  if (!type || key.length === 0) return undefined;
  return Buffer.from(JSON.stringify([type, ...key.map((k) => row[k])])).toString("base64");
}

function collectMarkers(context: Context): void {
  const { markers, b, rowsOf } = context;
  markers.set(b.id, "tenant B's id");
  markers.set(b.slug, "tenant B's slug");
  for (const [table, rows] of rowsOf.B.rows) {
    const relation = context.relations.get(table)!;
    const key = relation.primaryKey;
    const single = key.length === 1 && relation.columns.find((c) => c.name === key[0])?.type === "uuid";
    for (const row of rows) {
      if (single) markers.set(String(row[key[0]!]), `the id of tenant B's ${table} row`);
      const id = nodeId(context, table, row);
      if (id) markers.set(id, `the node id of tenant B's ${table} row`);
    }
  }
}

/** The first of tenant B's data found in an answer's data. */
function leak(context: Context, data: unknown): string | undefined {
  if (data === undefined || data === null) return undefined;
  const text = JSON.stringify(data);
  for (const [marker, what] of context.markers) if (text.includes(marker)) return what;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Requests

/** A token of a fresh session of the person (null for anonymous). */
async function tokenFor(context: Context, role: GraphqlRole): Promise<string | undefined> {
  if (role === "anonymous") return undefined;
  const person: SqlUser = context.a[role];
  const { rows } = await context.app.db.ownerPool.query<{ id: string }>(
    `insert into app_private.sessions (user_id, tenant_id, expires_at) values ($1, $2, now() + interval '1 day')
     returning id`,
    [person.userId, person.tenantId],
  );
  return mintToken({ sub: person.userId, tid: person.tenantId, role, sid: rows[0]!.id });
}

interface Answer {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

async function send(context: Context, query: string, variables: Record<string, unknown>, token?: string) {
  const { body } = await context.app.graphql(query, variables, token);
  return body as Answer;
}

function undocumented(context: Context, answer: Answer): string[] {
  return (answer.errors ?? [])
    .map((e) => e.extensions?.code ?? "(no code)")
    .filter((code) => !context.documented.has(code));
}

const tooComplex = (answer: Answer) => (answer.errors ?? []).some((e) => e.extensions?.code === "QUERY_TOO_COMPLEX");

// ---------------------------------------------------------------------------------------------
// Selections and values

function isConnection(type: GraphQLNamedType): boolean {
  return isObjectType(type) && type.name.endsWith("Connection") && "nodes" in type.getFields();
}

const requiredArgs = (field: { args: readonly GraphQLArgument[] }) =>
  field.args.filter((arg) => isNonNullType(arg.type) && arg.defaultValue === undefined);

/** Every field `depth` levels deep (a connection's nodes count as the connection's level). */
function selection(type: GraphQLOutputType, depth: number): string {
  const named = getNamedType(type);
  if (isLeafType(named)) return "";
  if (isUnionType(named)) return "{ __typename }";
  if (isConnection(named) && isObjectType(named)) {
    return `{ nodes ${selection(named.getFields().nodes!.type, depth)} }`;
  }
  if (!isObjectType(named) && !isInterfaceType(named)) return "";
  const parts = ["__typename"];
  for (const field of Object.values(named.getFields())) {
    // A payload's `query` is the whole root again: the root fields are checked on their own.
    if (requiredArgs(field).length > 0 || getNamedType(field.type).name === "Query") continue;
    const inner = getNamedType(field.type);
    if (isLeafType(inner)) parts.push(field.name);
    else if (depth > 0) {
      const sub = selection(field.type, depth - 1);
      if (sub) parts.push(`${field.name} ${sub}`);
    }
  }
  return `{ ${parts.join(" ")} }`;
}

const DAY = 86_400_000;

/** How deep query answers are selected: the root field's rows and the rows they lead to. */
const QUERY_DEPTH = 1;

/**
 * How many of tenant B's rows a lookup field is called with (row-level security does not depend on
 * which row; a few keep the first, uncached planning of every field affordable).
 */
const LOOKUP_ROWS = 3;

/** A valid-looking value of a scalar or enum for an argument named `name` (not an id). */
function plainValue(name: string, type: GraphQLNamedType): unknown {
  if (isEnumType(type)) return type.getValues()[0]!.value;
  const lower = name.toLowerCase();
  switch (type.name) {
    case "Int":
      return 1;
    case "Float":
      return 1;
    case "BigFloat":
    case "BigInt":
      return "1";
    case "Boolean":
      return true;
    case "Datetime":
      return new Date(Date.now() + (lower.includes("end") ? 11 : 10) * DAY).toISOString();
    case "JSON":
      return {};
    case "UUID":
      return randomUUID();
    default:
      break;
  }
  if (lower.includes("email")) return `matrix.${randomBytes(3).toString("hex")}@example.test`;
  if (lower.includes("password")) return "Matrix-check-password-42!";
  if (lower.includes("url")) return "https://example.test/matrix";
  if (lower === "currency") return "USD";
  if (lower === "module") return "events";
  if (lower === "permission") return "events.manage";
  if (lower === "code") return "123456";
  if (lower.includes("username") || lower === "login" || lower === "tenant" || lower === "slug") return "matrixcheck";
  return "Matrix check";
}

// ---------------------------------------------------------------------------------------------
// Which table's ids an argument takes

/** Where an argument's value comes from: a column of a row of that table (its key by default). */
interface Source {
  table: string;
  column?: string;
}

/**
 * In an input made from a table (CategoryInput, ProductPatch), the foreign key its field is: a
 * reference to another tenant's row whatever the field's type (`parentId`, `imageSha256`).
 */
function referenceOf(context: Context, name: string, parent: string): Source | undefined {
  const table = context.tableOfType.get(parent.replace(/(Input|Patch)$/, ""));
  const relation = table && context.relations.get(table);
  if (!relation) return undefined;
  const columnName = snake(name);
  for (const key of relation.foreignKeys) {
    const own = key.columns.filter((c) => c !== "tenant_id");
    if (own.length !== 1 || own[0] !== columnName || !context.tenancyOf.has(key.target)) continue;
    return { table: key.target, column: key.targetColumns[key.columns.indexOf(columnName)] };
  }
  return undefined;
}

/** The table whose ids an ID-like argument takes: named in ARGUMENT_TABLES, by its foreign key, or by its name. */
function tableForArgument(context: Context, name: string, parent: string, operation: string): Source | undefined {
  if (ARGUMENT_TABLES[name]) return { table: ARGUMENT_TABLES[name] };
  if (/^jobIds?$/.test(name)) return { table: JOBS };
  const reference = referenceOf(context, name, parent);
  if (reference) return reference;
  let stem = name.replace(/(RowId|Ids|Id)$/, "");
  if (stem === "" || stem === "row" || name === "id" || name === "rowId") {
    stem = operation.replace(/^[a-z]+/, "").replace(/ById$/, "");
  }
  const wanted = snake(stem);
  const exact = (r: Relation) => singular(r.graphqlName ?? r.table) === wanted;
  const candidates = [...context.relations.values()].filter((r) => {
    const matches = exact(r) || singular(r.graphqlName ?? r.table).endsWith(`_${wanted}`);
    return matches && r.primaryKey.length === 1 && context.tenancyOf.has(r.name);
  });
  const rank = (r: Relation) => (exact(r) ? 0 : 2) + (r.schema === "app_public" ? 0 : 1);
  candidates.sort((x, y) => rank(x) - rank(y));
  return candidates[0] && { table: candidates[0].name };
}

/** Whose id goes in an argument: tenant A's, tenant B's, or one that exists nowhere. */
type Side = "A" | "B" | "nowhere";

/** A value of a row of the table in the tenant: the column's, its key, or its node id for an `ID`. */
function idOf(context: Context, source: Source, side: Side, type: string): unknown {
  const { table } = source;
  if (side === "nowhere") {
    if (table === JOBS) return "999999999";
    const typeName = context.typeOfTable.get(table);
    if (type === "ID" && typeName) return Buffer.from(JSON.stringify([typeName, randomUUID()])).toString("base64");
    return type === "String" ? hex(32) : randomUUID();
  }
  const rows = context.rowsOf[side];
  if (table === JOBS) return rows.jobs[0];
  const row = rows.rows.get(table)?.[0];
  if (!row) return undefined;
  if (type === "ID") return nodeId(context, table, row);
  return row[source.column ?? context.relations.get(table)!.primaryKey[0]!];
}

const hex = (bytes: number) => randomBytes(bytes).toString("hex");

const isIdType = (type: GraphQLNamedType) => type.name === "ID" || type.name === "UUID";

/** An argument that takes a row's id (or another reference to a row): where a tenant's value goes. */
function isSlot(context: Context, name: string, parent: string, type: GraphQLNamedType): boolean {
  return (
    isIdType(type) ||
    (type.name === "BigInt" && /^jobIds?$/.test(name)) ||
    (isLeafType(type) && referenceOf(context, name, parent) !== undefined)
  );
}

interface Slot {
  path: string;
  table: string;
}

/**
 * The value of an input type. ID-like leaves are "slots": `pick(slot)` says whose id goes there;
 * `slots` collects them (in a stable order) and unplaceable ones.
 */
function inputValue(
  context: Context,
  operation: string,
  name: string,
  parent: string,
  type: GraphQLInputType,
  pick: (slot: Slot) => Side,
  slots: Slot[],
  unplaced: string[],
  path: string,
): unknown {
  if (isNonNullType(type)) {
    return inputValue(context, operation, name, parent, type.ofType, pick, slots, unplaced, path);
  }
  if (isListType(type)) {
    const inner = inputValue(context, operation, name, parent, type.ofType, pick, slots, unplaced, path);
    return inner === undefined ? [] : [inner];
  }
  const named = getNamedType(type);
  if (isInputObjectType(named)) {
    const patch = named.name.endsWith("Patch");
    const value: Record<string, unknown> = {};
    for (const field of Object.values(named.getFields()) as GraphQLInputField[]) {
      const required = isNonNullType(field.type) && field.defaultValue === undefined;
      const slot = isSlot(context, field.name, named.name, getNamedType(field.type));
      if ((!required && !patch && !slot) || field.name === "clientMutationId") continue;
      const at = `${path}.${field.name}`;
      const v = inputValue(context, operation, field.name, named.name, field.type, pick, slots, unplaced, at);
      if (v !== undefined) value[field.name] = v;
    }
    return value;
  }
  if (!isSlot(context, name, parent, named)) return plainValue(name, named);
  const source = tableForArgument(context, name, parent, operation);
  if (!source) {
    unplaced.push(`${path} (${named.name})`);
    return named.name === "UUID" ? randomUUID() : undefined;
  }
  const slot = { path, table: source.table };
  slots.push(slot);
  return idOf(context, source, pick(slot), named.name);
}

// ---------------------------------------------------------------------------------------------
// Node ids

/** Node ids with their tables, for every row of the tenant that has one. */
function nodeIds(context: Context, side: "A" | "B"): Array<{ id: string; table: string }> {
  const ids: Array<{ id: string; table: string }> = [];
  for (const [table, rows] of context.rowsOf[side].rows) {
    for (const row of rows) {
      const id = nodeId(context, table, row);
      if (id) ids.push({ id, table });
    }
  }
  return ids;
}

const NODE_BATCH = 5;

/**
 * `node(id:)` for each id, NODE_BATCH to a request (few document shapes, each planned once: a
 * `node` alias is planned for every type, so many to a request cost more than they save).
 */
async function lookUpNodes(context: Context, ids: string[], token?: string): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (let i = 0; i < ids.length; i += NODE_BATCH) {
    const batch = ids.slice(i, i + NODE_BATCH);
    const query = `query (${batch.map((_, j) => `$n${j}: ID!`).join(", ")}) {
      ${batch.map((_, j) => `n${j}: node(id: $n${j}) { id }`).join("\n")} }`;
    answers.push(await send(context, query, Object.fromEntries(batch.map((id, j) => [`n${j}`, id])), token));
    context.counts.nodeLookups += batch.length;
  }
  return answers;
}

/**
 * Tenant A's owner reads at least one row of every table of its tenant, so for every table some node
 * id of tenant A must resolve for them: else the node ids made for tenant B would prove nothing.
 */
async function checkNodeIds(context: Context): Promise<void> {
  const ids = nodeIds(context, "A");
  const answers = await lookUpNodes(
    context,
    ids.map((x) => x.id),
    await tokenFor(context, "owner"),
  );
  const found = answers.flatMap((answer) => Object.values(answer.data ?? {}).map(Boolean));
  const tables = new Set(ids.map((x) => x.table));
  const unresolved = [...tables].filter((table) => !ids.some((x, i) => x.table === table && found[i]));
  if (unresolved.length > 0) {
    context.problems.push(`node ids of tenant A that do not resolve for its owner: ${unresolved.join(", ")}`);
  }
}

/** node(id:) with every node id of tenant B. */
async function checkNodes(context: Context, role: GraphqlRole, token?: string): Promise<void> {
  const answers = await lookUpNodes(
    context,
    nodeIds(context, "B").map((x) => x.id),
    token,
  );
  for (const answer of answers) report(context, `query node(id:) as ${role}`, answer);
}

/** The problems of a query's answer: tenant B's data in it, codes docs/errors.md does not document. */
function report(context: Context, what: string, answer: Answer): void {
  const found = leak(context, answer.data);
  if (found) context.problems.push(`${what} answered ${found}`);
  for (const code of undocumented(context, answer)) {
    context.problems.push(`${what} answered ${code}, not in docs/errors.md`);
  }
}

/**
 * The lookup fields, called as tenant A's owner with tenant A's rows, must find one (the owner reads
 * some row of every table of its tenant: its own notification, its chats): else the calls with
 * tenant B's rows would prove nothing. LOOKUP_ROWS rows to a request, as the calls with B's rows,
 * which then reuse the first request's plan.
 */
async function checkLookups(context: Context): Promise<void> {
  const token = await tokenFor(context, "owner");
  const unresolved: string[] = [];
  for (const field of Object.values(context.schema.getQueryType()!.getFields())) {
    const table = context.tableOfType.get(getNamedType(field.type).name);
    const tenantRows = table && context.tenancyOf.has(table);
    if (!tenantRows || requiredArgs(field).length === 0 || !context.fields(field.name)) continue;
    const calls = lookups(context, field, "A", Number.POSITIVE_INFINITY);
    let found = false;
    for (let i = 0; i < calls.length && !found; i += LOOKUP_ROWS) {
      const answer = await query(context, field, calls.slice(i, i + LOOKUP_ROWS), token);
      found = Object.values(answer.data ?? {}).some(Boolean);
    }
    if (!found) unresolved.push(field.name);
  }
  if (unresolved.length > 0) {
    context.problems.push(`lookups that do not find tenant A's rows for its owner: ${unresolved.join(", ")}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Queries

async function checkQueries(context: Context, role: GraphqlRole): Promise<void> {
  const token = await tokenFor(context, role);
  if (context.fields("node")) await checkNodes(context, role, token);
  const queryType = context.schema.getQueryType()!;
  for (const field of Object.values(queryType.getFields())) {
    if (["node", "query", "id"].includes(field.name) || !context.fields(field.name)) continue;
    report(context, `query ${field.name} as ${role}`, await query(context, field, lookups(context, field), token));
  }
}

/** The argument sets a query field is called with: one per tenant B row for a lookup, else one. */
function lookups(
  context: Context,
  field: GraphQLField<unknown, unknown>,
  side: "A" | "B" = "B",
  most = LOOKUP_ROWS,
): Array<Record<string, unknown>> {
  const required = requiredArgs(field);
  const table = context.tableOfType.get(getNamedType(field.type).name);
  if (required.length === 0) return [{}];
  const rows = table ? (context.rowsOf[side].rows.get(table) ?? []) : [];
  const fromRow = (row: Record<string, unknown>) => {
    const args: Record<string, unknown> = {};
    for (const arg of required) {
      const named = getNamedType(arg.type);
      const key = context.relations.get(table!)!.primaryKey;
      if (arg.name === "rowId" && key.length === 1) args[arg.name] = row[key[0]!];
      else if (arg.name === "id" && named.name === "ID") args[arg.name] = nodeId(context, table!, row);
      else if (snake(arg.name) in row) args[arg.name] = row[snake(arg.name)];
      else args[arg.name] = plainValue(arg.name, named);
    }
    return args;
  };
  if (rows.length > 0) return rows.slice(0, most).map(fromRow);
  return [Object.fromEntries(required.map((arg) => [arg.name, plainValue(arg.name, getNamedType(arg.type))]))];
}

/**
 * A query field called once per argument set (aliases), selecting QUERY_DEPTH levels — fewer when
 * the limits refuse that many. A lookup selects its row's own fields only: if it answers another
 * tenant's row at all, that row's id is there.
 */
async function query(
  context: Context,
  field: GraphQLField<unknown, unknown>,
  calls: Array<Record<string, unknown>>,
  token?: string,
): Promise<Answer> {
  const required = requiredArgs(field);
  const lookup = required.length > 0 && context.tableOfType.has(getNamedType(field.type).name);
  for (let depth = lookup ? 0 : QUERY_DEPTH; ; depth--) {
    const variables: Record<string, unknown> = {};
    const definitions: string[] = [];
    const aliases = calls.map((args, i) => {
      const list = required.map((arg) => {
        variables[`v${i}_${arg.name}`] = args[arg.name];
        definitions.push(`$v${i}_${arg.name}: ${arg.type}`);
        return `${arg.name}: $v${i}_${arg.name}`;
      });
      return `q${i}: ${field.name}${list.length > 0 ? `(${list.join(", ")})` : ""} ${selection(field.type, depth)}`;
    });
    const text = `query ${definitions.length > 0 ? `(${definitions.join(", ")})` : ""} { ${aliases.join("\n")} }`;
    const answer = await send(context, text, variables, token);
    context.counts.queries++;
    if (!tooComplex(answer) || depth === 0) return answer;
  }
}

// ---------------------------------------------------------------------------------------------
// Mutations

async function digest(context: Context): Promise<Map<string, string>> {
  const parts: string[] = [];
  for (const relation of context.relations.values()) {
    const tenancy = context.tenancyOf.get(relation.name);
    if (!tenancy || relation.kind !== "table") continue;
    parts.push(
      `select '${relation.name}' as name, md5(coalesce(string_agg(x, ',' order by x), '')) as digest
       from (select to_jsonb(r)::text as x from ${relation.name} r where ${tenancy.expression("r")} = $1) s`,
    );
  }
  parts.push(
    `select '${JOBS}', md5(coalesce(string_agg(x, ',' order by x), ''))
     from (select to_jsonb(j)::text as x from graphile_worker._private_jobs j
           join app_private.job_tenants t on t.id = j.id where t.tenant_id = $1) s`,
  );
  const { rows } = await context.root.query<{ name: string; digest: string }>(parts.join("\nunion all\n"), [
    context.b.id,
  ]);
  return new Map(rows.map((r) => [r.name, r.digest]));
}

function changed(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...before.keys()].filter((name) => before.get(name) !== after.get(name));
}

async function checkMutations(context: Context, role: GraphqlRole): Promise<void> {
  const mutationType = context.schema.getMutationType();
  if (!mutationType) return;
  for (const field of Object.values(mutationType.getFields())) {
    if (!context.fields(field.name)) continue;
    // Tenant B's rows are compared before and after each field's calls (a change is then looked
    // into by hand: the message names the field, the role and every call).
    const before = context.digest ?? (await digest(context));
    const variants = mutationVariants(context, field);
    for (const variant of variants) await checkMutation(context, role, field, variant);
    context.digest = await digest(context);
    const touched = changed(before, context.digest);
    if (touched.length > 0) {
      const calls = variants.map((v) => `(${v.label}), and with ids that exist nowhere`).join("; ");
      context.problems.push(
        `mutation ${field.name} as ${role} changed tenant B's rows: ${touched.join(", ")}: ${calls}`,
      );
    }
  }
}

interface Variant {
  args: Record<string, unknown>;
  /** The same call with tenant B's ids replaced by ids that exist nowhere. */
  nowhere: Record<string, unknown>;
  /** Where tenant B's ids are, for the message. */
  label: string;
  idArguments: number;
}

function mutationVariants(context: Context, field: GraphQLField<unknown, unknown>): Variant[] {
  const build = (sides: (index: number) => Side) => {
    const slots: Slot[] = [];
    const unplaced: string[] = [];
    const args: Record<string, unknown> = {};
    for (const arg of field.args) {
      const required = isNonNullType(arg.type) && arg.defaultValue === undefined;
      const leaf = getNamedType(arg.type);
      if (!required && !isIdType(leaf) && !isInputObjectType(leaf)) continue;
      const value = inputValue(
        context,
        field.name,
        arg.name,
        "Mutation",
        arg.type,
        () => sides(slots.length - 1),
        slots,
        unplaced,
        arg.name,
      );
      if (value !== undefined) args[arg.name] = value;
    }
    return { args, slots, unplaced };
  };
  const first = build(() => "B");
  for (const path of first.unplaced) {
    context.problems.push(
      `mutation ${field.name}: no table for the id argument ${path}; name it in ARGUMENT_TABLES (graphqlMatrix.ts)`,
    );
  }
  const variant = (sides: Side[]): Variant => ({
    args: build((i) => sides[i] ?? "B").args,
    nowhere: build((i) => (sides[i] === "A" ? "A" : "nowhere")).args,
    label:
      first.slots.length === 0
        ? "no id argument"
        : first.slots.map((s, i) => `${s.path}: ${sides[i]} ${s.table}`).join(", "),
    idArguments: first.slots.length,
  });
  const variants = [variant(first.slots.map(() => "B"))];
  if (first.slots.length >= 2) {
    for (let i = 0; i < first.slots.length; i++)
      variants.push(variant(first.slots.map((_, j) => (j === i ? "B" : "A"))));
  }
  return variants;
}

async function checkMutation(
  context: Context,
  role: GraphqlRole,
  field: GraphQLField<unknown, unknown>,
  variant: Variant,
): Promise<void> {
  const token = await tokenFor(context, role);
  const definitions = field.args.filter((arg) => arg.name in variant.args).map((arg) => `$${arg.name}: ${arg.type}`);
  const list = field.args.filter((arg) => arg.name in variant.args).map((arg) => `${arg.name}: $${arg.name}`);
  const sub = selection(field.type, 1);
  const query = `mutation ${definitions.length > 0 ? `(${definitions.join(", ")})` : ""} {
    result: ${field.name}${list.length > 0 ? `(${list.join(", ")})` : ""} ${sub} }`;
  const answer = await send(context, query, variant.args, token);
  context.counts.mutations++;
  const what = `mutation ${field.name} as ${role} (${variant.label})`;
  report(context, what, answer);
  if (variant.idArguments === 0) return;
  const code = codes(answer).join("+") || "none";
  context.mutationCodes[code] = (context.mutationCodes[code] ?? 0) + 1;
  // Tenant B's ids must be indistinguishable from ids that exist nowhere: the same codes, or the
  // same answer without an error (the generated updates answer a null row for any row they cannot
  // change); else the answer tells whether another tenant's row exists.
  const elsewhere = await send(context, query, variant.nowhere, await tokenFor(context, role));
  context.counts.mutations++;
  const shape = (x: Answer) => JSON.stringify({ codes: codes(x), data: x.errors?.length ? null : x.data });
  if (shape(answer) !== shape(elsewhere)) {
    context.problems.push(
      `${what} answered ${shape(answer).slice(0, 200)}, ` +
        `but for ids that exist nowhere ${shape(elsewhere).slice(0, 200)}`,
    );
  } else if (!answer.errors?.length) {
    context.nullAnswers.push(`${field.name} as ${role} (${variant.label})`);
  }
}

const codes = (answer: Answer) => [...new Set((answer.errors ?? []).map((e) => e.extensions?.code))].sort();

/** What a GraphQL matrix file runs against: a test server and two seeded tenants, A and B. */
export interface MatrixTarget {
  app: TestApp;
  a: SeededTenant;
  b: SeededTenant;
}

/** A GraphQL matrix file's setup: before its tests the server and tenants A and B, after them the server stopped. */
export function useMatrixTarget(): MatrixTarget {
  const target = {} as MatrixTarget;
  beforeAll(async () => {
    target.app = await startTestApp({ openapiCheck: false });
    target.a = await createSeededTenant(target.app.db);
    target.b = await createSeededTenant(target.app.db);
  });
  afterAll(() => target.app.stop());
  return target;
}
