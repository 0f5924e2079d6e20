/**
 * The database-level access matrix: every table and view of app_public (read from pg_catalog) ×
 * role (anonymous; the member, manager, admin and owner of tenant A; a bot of tenant A) × tenant
 * (A's own rows, tenant B's rows) × command, each attempted through the database as that role — the
 * request role (the visitor) with the claims a request sets, or the bot role with a bot's claims —
 * and compared with the owning module's expectations (./expectations/<module>.ts). It returns
 * problems rather than asserting, so that a test can check that a planted hole is reported.
 *
 * How each command is attempted (one transaction per role, each attempt in a savepoint rolled back
 * after it, so attempts never see each other's effects; many attempts share one connection):
 * - select: `count(*)` of the target tenant's rows, picked by primary key (by row text for a
 *   relation without one): all, some or none of them visible, or 42501.
 * - insert: a copy of each existing row of the target tenant, read as the superuser (`to_jsonb`)
 *   and inserted as the role through `json_populate_record` with the columns the role may insert
 *   (`has_column_privilege`; the others take their defaults, as in a request); a uuid key that
 *   points at nothing gets a new value. The cell shows the most permissive outcome of the copies.
 *   After a success the superuser reads where the new row landed and what its foreign keys point
 *   at. A copy of B's row is B's only if the role may write the columns that decide the tenant
 *   (`tenant_id`, or the foreign key the tenant is found through); else it lands in the caller's
 *   tenant, and only its references can reach B.
 * - update: `set <column> = <column>` on the target tenant's rows, for a column the role may update
 *   (else any column, to show the refusal); counts the rows it reached. On its own rows the caller
 *   also tries to point each foreign key it may update at a row of tenant B.
 * - delete: `delete` of the target tenant's rows; counts the rows it reached.
 *
 * Hard rule, whatever the expectations say: no read of another tenant's rows; no write that reaches,
 * creates or points at another tenant's row, or that gets past privileges and row-level security
 * to be stopped only by a constraint; no write of the catalogue shared by every tenant. Anonymous
 * callers belong to no tenant, so both tenants' rows are another tenant's to them.
 */
import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { TestDatabase } from "../../helpers/database.ts";
import { column, identity, quote, readRelations, type Relation, tenancies, type Tenancy } from "./catalog.ts";
import {
  type Cell,
  type Command,
  COMMANDS,
  type ModuleExpectations,
  type Outcome,
  type Role,
  ROLES,
  type TableExpectations,
} from "./expectations.ts";
import type { SeededTenant } from "./seed.ts";

export type Target = "own" | "other";

export interface Problem {
  table: string;
  role?: Role;
  command?: Command;
  target?: Target;
  message: string;
}

export interface Attempt {
  table: string;
  role: Role;
  command: Command;
  /** "own" for a shared table too (its one outcome). */
  target: Target;
  outcome: Outcome;
  /** SQLSTATE and message of a failure, rows reached… */
  detail: string;
}

export interface MatrixResult {
  problems: Problem[];
  /** One per cell: table × role × command × target. */
  attempts: Attempt[];
  /** Updates that tried to point the caller's rows at tenant B's (beside the cells). */
  pointerAttempts: number;
}

export interface MatrixInput {
  db: TestDatabase;
  /** The caller's tenant (A) and the other one (B), both filled by createSeededTenant. */
  a: SeededTenant;
  b: SeededTenant;
  /** The names of MODULES, and the expectations files found for them. */
  modules: readonly string[];
  expectations: ModuleExpectations[];
  /** Modules of MODULES without an expectations file. */
  missingFiles?: string[];
  /** Only these tables of app_public (unqualified names); every table when absent. */
  tables?: string[];
}

const SCHEMA = "app_public";

/** What a run shares: the superuser's connection, the tenants, the problems found so far. */
interface Run {
  client: pg.PoolClient;
  a: SeededTenant;
  b: SeededTenant;
  problems: Problem[];
  pointerAttempts: number;
}

/** One table, as the superuser read it before the attempts. */
interface TablePlan {
  relation: Relation;
  expectations?: TableExpectations;
  declaredModule?: string;
  tenancy?: Tenancy;
  /** Identities (JSON) of the rows of A and of B; for a shared table, every row under "own". */
  rows: Record<Target, unknown[]>;
  /** Every row of each tenant as JSON: an insert attempts a copy of each. */
  samples: Record<Target, Record<string, unknown>[]>;
  /** Every identity present before the attempts: a row not among them is new. */
  existing: unknown[];
  /** Per database role: the columns it may insert, the columns it may update. */
  insertable: Record<string, string[]>;
  updatable: Record<string, string[]>;
  /** SQL of the tenants of the rows the row `r`'s foreign keys point at, as JSON by constraint name. */
  referencedTenants?: string;
  /** Per foreign key to a table with tenants: its columns' values that point at a row of tenant B. */
  pointers: Array<{ key: string; values: Record<string, unknown> }>;
}

interface Actor {
  role: Role;
  dbRole: string;
  /** The tenant the caller belongs to (undefined: anonymous). */
  tenantId?: string;
  claims: Record<string, string>;
}

interface Failure {
  code: string;
  message: string;
}

type Result = { outcome: Outcome; detail: string };

export async function runAccessMatrix(input: MatrixInput): Promise<MatrixResult> {
  const { db, a, b } = input;
  const client = await db.rootPool.connect();
  const run: Run = { client, a, b, problems: [], pointerAttempts: 0 };
  try {
    const relations = await readRelations(client, [SCHEMA, "app_private", "app_hidden"]);
    const tenancyOf = tenancies(relations);
    const byTable = expectationsByTable(input, run.problems);
    for (const message of await crossTenantReferences(client, relations, tenancyOf)) {
      run.problems.push({ table: "-", message: `the seed breaks the hard rule: ${message}` });
    }
    for (const table of byTable.keys()) {
      if (!input.tables && !relations.some((r) => r.schema === SCHEMA && r.table === table)) {
        run.problems.push({ table, message: `expectations name ${SCHEMA}.${table}, which does not exist` });
      }
    }
    const actors = actorsOf(db, a);
    const plans: TablePlan[] = [];
    for (const relation of relations) {
      if (relation.schema !== SCHEMA || (input.tables && !input.tables.includes(relation.table))) continue;
      const plan = await planTable(run, relation, byTable.get(relation.table), tenancyOf, relations, actors);
      run.problems.push(...checkPlan(plan));
      if (plan.rows.own.length > 0 && (!plan.tenancy || plan.rows.other.length > 0)) plans.push(plan);
    }
    const attempts: Attempt[] = [];
    for (const actor of actors) attempts.push(...(await attemptAsActor(run, actor, plans)));
    return { problems: run.problems, attempts, pointerAttempts: run.pointerAttempts };
  } finally {
    client.release();
  }
}

/** Expectations by table name; problems for missing files, unknown modules and tables declared twice. */
function expectationsByTable(input: MatrixInput, problems: Problem[]) {
  const byTable = new Map<string, { module: string; expectations: TableExpectations }>();
  for (const module of input.missingFiles ?? []) {
    problems.push({ table: "-", message: `module ${module} has no expectations file (expectations/${module}.ts)` });
  }
  for (const file of input.expectations) {
    if (!input.modules.includes(file.module)) {
      problems.push({ table: "-", message: `expectations of module ${file.module}, which is not in MODULES` });
    }
    for (const [table, expectations] of Object.entries(file.tables)) {
      const already = byTable.get(table);
      if (already) problems.push({ table, message: `declared by two modules: ${already.module} and ${file.module}` });
      else byTable.set(table, { module: file.module, expectations });
    }
  }
  return byTable;
}

function actorsOf(db: TestDatabase, a: SeededTenant): Actor[] {
  const person = (role: "member" | "manager" | "admin" | "owner"): Actor => ({
    role,
    dbRole: db.urls.visitorRole,
    tenantId: a.id,
    claims: {
      "jwt.claims.user_id": a[role].userId,
      "jwt.claims.tenant_id": a[role].tenantId,
      "jwt.claims.session_id": a[role].sessionId,
      "jwt.claims.role": a[role].role,
    },
  });
  const bot: Actor = {
    role: "bot",
    dbRole: db.urls.botRole,
    tenantId: a.id,
    claims: { "jwt.claims.bot_tenant_id": a.id, "jwt.claims.bot_id": a.botId },
  };
  const actors = [
    { role: "anonymous", dbRole: db.urls.visitorRole, claims: {} } as Actor,
    person("member"),
    person("manager"),
    person("admin"),
    person("owner"),
    bot,
  ];
  if (actors.map((actor) => actor.role).join() !== ROLES.join()) throw new Error("every role needs an actor");
  return actors;
}

// ---------------------------------------------------------------------------------------------
// Reading a table before the attempts

async function planTable(
  run: Run,
  relation: Relation,
  declared: { module: string; expectations: TableExpectations } | undefined,
  tenancyOf: Map<string, Tenancy>,
  relations: Relation[],
  actors: Actor[],
): Promise<TablePlan> {
  const tenancy = tenancyOf.get(relation.name);
  const rowsOf = async (tenantId?: string) => {
    const where = tenantId && tenancy ? `where ${tenancy.expression("r")} = $1` : "";
    const { rows } = await run.client.query<{ id: unknown; row: Record<string, unknown> }>(
      `select ${identity(relation).select("r")} as id, to_jsonb(r) as row from ${relation.name} r ${where} order by 1`,
      where ? [tenantId] : [],
    );
    return rows;
  };
  const own = await rowsOf(tenancy ? run.a.id : undefined);
  const other = tenancy ? await rowsOf(run.b.id) : [];
  const privileges = await columnPrivileges(run.client, relation, [...new Set(actors.map((x) => x.dbRole))]);
  const byName = new Map(relations.map((r) => [r.name, r]));
  const references: string[] = [];
  const pointers: TablePlan["pointers"] = [];
  for (const key of relation.foreignKeys) {
    const target = byName.get(key.target);
    const through = target && tenancyOf.get(target.name);
    if (!target || !through) continue;
    const join = key.columns.map((name, i) => `${column("f", key.targetColumns[i]!)} = ${column("r", name)}`);
    references.push(
      `'${key.name}', (select ${through.expression("f")} from ${target.name} f where ${join.join(" and ")})`,
    );
    const { rows } = await run.client.query<{ row: Record<string, unknown> }>(
      `select to_jsonb(f) as row from ${target.name} f where ${through.expression("f")} = $1 limit 1`,
      [run.b.id],
    );
    const row = rows[0]?.row;
    if (row) {
      const values = Object.fromEntries(key.columns.map((c, i) => [c, row[key.targetColumns[i]!]]));
      pointers.push({ key: key.name, values });
    }
  }
  return {
    relation,
    expectations: declared?.expectations,
    declaredModule: declared?.module,
    tenancy,
    rows: { own: own.map((r) => r.id), other: other.map((r) => r.id) },
    samples: { own: own.map((r) => r.row), other: other.map((r) => r.row) },
    existing: (await rowsOf()).map((r) => r.id),
    ...privileges,
    referencedTenants: references.length > 0 ? `jsonb_build_object(${references.join(", ")})` : undefined,
    pointers,
  };
}

/** The columns each database role may insert and update (generated columns left out). */
async function columnPrivileges(client: pg.ClientBase, relation: Relation, dbRoles: string[]) {
  const insertable: Record<string, string[]> = {};
  const updatable: Record<string, string[]> = {};
  const generated = new Set(relation.columns.filter((c) => c.generated).map((c) => c.name));
  for (const dbRole of dbRoles) {
    const { rows } = await client.query<{ name: string; insert: boolean; update: boolean }>(
      `select a.attname as name, has_column_privilege($1, a.attrelid, a.attnum, 'INSERT') as insert,
              has_column_privilege($1, a.attrelid, a.attnum, 'UPDATE') as update
       from pg_attribute a where a.attrelid = $2::regclass and a.attnum > 0 and not a.attisdropped
       order by a.attnum`,
      [dbRole, relation.name],
    );
    insertable[dbRole] = rows.filter((r) => r.insert && !generated.has(r.name)).map((r) => r.name);
    updatable[dbRole] = rows.filter((r) => r.update && !generated.has(r.name)).map((r) => r.name);
  }
  return { insertable, updatable };
}

/** What is wrong with a table before any attempt: its expectations, its module, its rows. */
function checkPlan(plan: TablePlan): Problem[] {
  const { relation, expectations, tenancy } = plan;
  const table = relation.name;
  const problems: Problem[] = [];
  const tagged = relation.module ?? "nothing";
  if (!expectations) {
    const file = `expectations/${relation.module ?? "<module>"}.ts`;
    problems.push({ table, message: `no expectations: add it to ${file} (its comment says @module ${tagged})` });
  } else if (plan.declaredModule !== relation.module) {
    problems.push({
      table,
      message: `expectations/${plan.declaredModule}.ts declares it, but its comment says @module ${tagged}`,
    });
  }
  if (expectations?.shared && tenancy) {
    problems.push({ table, message: "declared shared, but its rows belong to a tenant" });
  }
  if (expectations && !expectations.shared && !tenancy) {
    problems.push({
      table,
      message: "its rows belong to no tenant (no tenant_id, no foreign key to a tenant's row): declare it shared",
    });
  }
  if (tenancy && plan.rows.own.length === 0)
    problems.push({ table, message: "no row in tenant A: fill it in seed.ts" });
  if (tenancy && plan.rows.other.length === 0)
    problems.push({ table, message: "no row in tenant B: fill it in seed.ts" });
  if (!tenancy && plan.rows.own.length === 0) problems.push({ table, message: "no row at all: fill it in seed.ts" });
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Attempts

/** Every cell of one role, in a transaction of its own with the role's claims. */
async function attemptAsActor(run: Run, actor: Actor, plans: TablePlan[]): Promise<Attempt[]> {
  const attempts: Attempt[] = [];
  await run.client.query("begin");
  try {
    await run.client.query("select set_config(key, value, true) from jsonb_each_text($1::jsonb)", [
      JSON.stringify(actor.claims),
    ]);
    for (const plan of plans) {
      for (const command of COMMANDS) {
        for (const target of plan.tenancy ? (["own", "other"] as const) : (["own"] as const)) {
          const attempt = await attemptCell(run, plan, actor, command, target);
          attempts.push(attempt);
          run.problems.push(...compare(plan, attempt));
        }
      }
    }
  } finally {
    await run.client.query("rollback");
  }
  return attempts;
}

/**
 * A statement: its result, or its SQLSTATE and message. After a failure the transaction is aborted
 * until the enclosing savepoint (the cell's, a copy's, a pointer's) is rolled back.
 */
async function statement(run: Run, sql: string, params: unknown[]): Promise<pg.QueryResult | Failure> {
  try {
    return await run.client.query(sql, params);
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    return { code: code ?? "?", message: message ?? String(error) };
  }
}

/** Runs fn behind a savepoint (opened and rolled back in one round trip each), as the database role. */
async function inSavepoint<T>(run: Run, name: string, dbRole: string | undefined, fn: () => Promise<T>): Promise<T> {
  await run.client.query(`savepoint ${name}${dbRole ? `; set local role ${dbRole}` : ""}`);
  try {
    return await fn();
  } finally {
    await run.client.query(`rollback to savepoint ${name}; release savepoint ${name}`);
  }
}

const failed = (result: pg.QueryResult | Failure): result is Failure => "code" in result;

/**
 * The outcome of a failed write: 42501 is denied; an integrity constraint (class 23) comes after
 * privileges and row-level security, so the write was allowed when its row was the target's.
 */
function failureOutcome(failure: Failure, targetsRow: boolean): Result {
  const detail = `${failure.code}: ${failure.message}`;
  if (failure.code === "42501") return { outcome: "denied", detail };
  if (failure.code.startsWith("23") && targetsRow) return { outcome: "allowed", detail };
  return { outcome: "refused", detail };
}

const tenantName = (target: Target) => (target === "own" ? "tenant A" : "tenant B");

async function attemptCell(run: Run, plan: TablePlan, actor: Actor, command: Command, target: Target) {
  const base = { table: plan.relation.name, role: actor.role, command, target };
  const hard = (message: string) => {
    const problem = { ...base, message: `HARD RULE: ${message}` };
    if (!run.problems.some((p) => JSON.stringify(p) === JSON.stringify(problem))) run.problems.push(problem);
  };
  const cell = { run, plan, actor, target, hard };
  const result = await inSavepoint(run, "cell", actor.dbRole, () =>
    command === "select"
      ? attemptSelect(cell)
      : command === "insert"
        ? attemptInsert(cell)
        : attemptChange(cell, command),
  );
  if (command === "update" && target === "own" && actor.tenantId) {
    await inSavepoint(run, "cell", actor.dbRole, () => pointAtOther(cell));
  }
  return { ...base, ...result };
}

interface CellContext {
  run: Run;
  plan: TablePlan;
  actor: Actor;
  target: Target;
  hard(message: string): void;
}

/** Whether the target rows are another tenant's to this caller (anonymous: every tenant's). */
function foreign({ run, plan, actor, target }: CellContext): boolean {
  if (!plan.tenancy) return false;
  return actor.tenantId === undefined || (target === "own" ? run.a.id : run.b.id) !== actor.tenantId;
}

async function attemptSelect(cell: CellContext): Promise<Result> {
  const { run, plan, actor, target } = cell;
  const matches = identity(plan.relation).matches("r", "$1");
  const result = await statement(run, `select count(*)::int as n from ${plan.relation.name} r where ${matches}`, [
    JSON.stringify(plan.rows[target]),
  ]);
  if (failed(result)) return failureOutcome(result, true);
  const seen = result.rows[0].n as number;
  const total = plan.rows[target].length;
  if (seen > 0 && foreign(cell)) cell.hard(`${actor.role} reads ${seen} of ${total} rows of ${tenantName(target)}`);
  return { outcome: seen === 0 ? "none" : seen === total ? "all" : "some", detail: `${seen} of ${total} rows` };
}

/** update (every column set to itself) or delete of the target tenant's rows. */
async function attemptChange(cell: CellContext, command: "update" | "delete"): Promise<Result> {
  const { run, plan, actor, target } = cell;
  const { name } = plan.relation;
  const matches = identity(plan.relation).matches("r", "$1");
  const sql =
    command === "update"
      ? `update ${name} r set ${updateColumn(plan, actor)} where ${matches}`
      : `delete from ${name} r where ${matches}`;
  const result = await statement(run, sql, [JSON.stringify(plan.rows[target])]);
  const where = plan.tenancy ? tenantName(target) : "the catalogue";
  if (failed(result)) {
    const outcome = failureOutcome(result, true);
    if (outcome.outcome === "allowed" && (foreign(cell) || !plan.tenancy)) {
      cell.hard(
        `${actor.role}'s ${command} of ${where} got past privileges and row-level security (${outcome.detail})`,
      );
    }
    return outcome;
  }
  const reached = result.rowCount ?? 0;
  if (reached > 0 && (foreign(cell) || !plan.tenancy)) {
    cell.hard(`${actor.role}'s ${command} reached ${reached} rows of ${where}`);
  }
  return { outcome: reached > 0 ? "allowed" : "none", detail: `${reached} rows` };
}

/** `col = r.col` for a column the role may update (not a key column if it can), else any column. */
function updateColumn(plan: TablePlan, actor: Actor): string {
  const key = new Set(plan.relation.primaryKey);
  const allowed = plan.updatable[actor.dbRole] ?? [];
  const name =
    allowed.find((c) => !key.has(c)) ??
    allowed[0] ??
    plan.relation.columns.find((c) => !key.has(c.name) && !c.generated)?.name ??
    plan.relation.columns[0]!.name;
  return `${quote(name)} = ${column("r", name)}`;
}

/**
 * The caller's own rows made to point at the other tenant's: for each foreign key whose columns the
 * caller may update (some of them), those set to a row of tenant B. Reaching any row breaks the hard
 * rule (tenant-consistent composite keys refuse it).
 */
async function pointAtOther(cell: CellContext): Promise<void> {
  const { run, plan, actor } = cell;
  const updatable = new Set(plan.updatable[actor.dbRole] ?? []);
  const typeOf = (name: string) => plan.relation.columns.find((c) => c.name === name)!.type;
  for (const pointer of plan.pointers) {
    const columns = Object.keys(pointer.values).filter((c) => updatable.has(c));
    if (columns.length === 0) continue;
    const set = columns.map((c, i) => `${quote(c)} = $${i + 2}::${typeOf(c)}`).join(", ");
    const sql = `update ${plan.relation.name} r set ${set} where ${identity(plan.relation).matches("r", "$1")}`;
    const params = [JSON.stringify(plan.rows.own), ...columns.map((c) => pointer.values[c])];
    const result = await inSavepoint(run, "pointer", undefined, () => statement(run, sql, params));
    run.pointerAttempts++;
    if (!failed(result) && (result.rowCount ?? 0) > 0) {
      cell.hard(`${actor.role} made ${result.rowCount} rows of tenant A point at tenant B's row (${pointer.key})`);
    }
  }
}

/** Outcomes of an insert's copies, the most permissive first: the cell shows the worst case. */
const INSERT_PRECEDENCE: Outcome[] = ["allowed", "redirected", "refused", "none", "denied"];

/**
 * A copy of each of the target tenant's rows, each in a savepoint (one copy when the role may
 * insert no column: the grant refuses them all alike).
 */
async function attemptInsert(cell: CellContext): Promise<Result> {
  const results: Result[] = [];
  const samples = cell.plan.samples[cell.target];
  const granted = (cell.plan.insertable[cell.actor.dbRole] ?? []).length > 0;
  for (const row of granted ? samples : samples.slice(0, 1)) {
    results.push(await inSavepoint(cell.run, "copy", undefined, () => insertCopy(cell, row)));
  }
  const outcome = INSERT_PRECEDENCE.find((o) => results.some((r) => r.outcome === o)) ?? "none";
  return { outcome, detail: [...new Set(results.map((r) => `${r.outcome}: ${r.detail}`))].join("; ") };
}

async function insertCopy(cell: CellContext, row: Record<string, unknown>): Promise<Result> {
  const { run, plan, actor, target } = cell;
  const { relation, tenancy } = plan;
  const columns = plan.insertable[actor.dbRole] ?? [];
  const copy = { ...row };
  // A fresh surrogate key (a uuid key column that points at nothing); keys made of references stay.
  const referencing = new Set(relation.foreignKeys.flatMap((key) => key.columns));
  for (const name of relation.primaryKey) {
    const isUuid = relation.columns.find((c) => c.name === name)?.type === "uuid";
    if (isUuid && !referencing.has(name) && name !== "tenant_id") copy[name] = randomUUID();
  }
  const list = columns.map(quote).join(", ");
  const sql =
    columns.length === 0
      ? `insert into ${relation.name} default values`
      : `insert into ${relation.name} (${list})
         select ${list} from json_populate_record(null::${relation.name}, $1::json)`;
  const result = await statement(run, sql, columns.length === 0 ? [] : [JSON.stringify(copy)]);
  // The attempted row is the target tenant's when the caller writes the columns that decide the tenant.
  const namesTenant = tenancy?.columns.every((c) => columns.includes(c)) ?? false;
  if (failed(result)) {
    const outcome = failureOutcome(result, target === "own" || namesTenant);
    const foreignRow = tenancy && (actor.tenantId === undefined || (namesTenant && target === "other"));
    if (outcome.outcome === "allowed" && (foreignRow || !tenancy)) {
      const what = tenancy ? tenantName(target) : "the catalogue";
      cell.hard(
        `${actor.role}'s insert of a row of ${what} got past privileges and row-level security (${outcome.detail})`,
      );
    }
    return outcome;
  }
  return await landing(cell);
}

/** Where a new row landed and what it points at, read as the superuser inside the savepoint. */
async function landing(cell: CellContext): Promise<Result> {
  const { run, plan, actor, target } = cell;
  const { relation, tenancy } = plan;
  await run.client.query("reset role");
  const { rows } = await run.client.query<{ tenant: string | null; refs: Record<string, string | null> | null }>(
    `select ${tenancy ? tenancy.expression("r") : "null"}::text as tenant, ${plan.referencedTenants ?? "null"} as refs
     from ${relation.name} r where not (${identity(relation).matches("r", "$1")})`,
    [JSON.stringify(plan.existing)],
  );
  const landed = rows[0];
  if (!landed) return { outcome: "none", detail: "no new row" };
  if (!tenancy) {
    cell.hard(`${actor.role} wrote a row into the catalogue shared by every tenant`);
    return { outcome: "allowed", detail: "a new shared row" };
  }
  const name = (t: string | null) => (t === run.a.id ? "tenant A" : t === run.b.id ? "tenant B" : `tenant ${t}`);
  if (landed.tenant !== actor.tenantId) cell.hard(`${actor.role} inserted a row into ${name(landed.tenant)}`);
  for (const [key, t] of Object.entries(landed.refs ?? {})) {
    if (t !== null && t !== actor.tenantId) cell.hard(`${actor.role} inserted a row pointing at ${name(t)}'s (${key})`);
  }
  const redirected = target === "other" && landed.tenant === run.a.id;
  return { outcome: redirected ? "redirected" : "allowed", detail: `new row in ${name(landed.tenant)}` };
}

// ---------------------------------------------------------------------------------------------
// Expectations

/** Mismatches between an attempt and the expectations, and missing expectations (named once). */
function compare(plan: TablePlan, attempt: Attempt): Problem[] {
  const { expectations, tenancy } = plan;
  if (!expectations) return [];
  const where = { table: attempt.table, role: attempt.role, command: attempt.command, target: attempt.target };
  const once = attempt.target === "own";
  const byRole = expectations[attempt.command];
  if (!byRole)
    return once && attempt.role === ROLES[0] ? [{ ...where, message: `no expectations for ${attempt.command}` }] : [];
  const cell: Cell | undefined = byRole[attempt.role];
  if (cell === undefined) {
    return once ? [{ ...where, message: `no expectation for role ${attempt.role} on ${attempt.command}` }] : [];
  }
  if (!tenancy && typeof cell !== "string" && cell[0] !== cell[1]) {
    return once ? [{ ...where, message: "a shared table has one outcome per role, not two" }] : [];
  }
  const expected = typeof cell === "string" ? cell : cell[attempt.target === "own" ? 0 : 1];
  if (expected === attempt.outcome) return [];
  const rows = tenancy ? `${attempt.target} rows` : "shared rows";
  const got = `got ${attempt.outcome} (${attempt.detail})`;
  return [{ ...where, message: `${attempt.role} ${attempt.command} on ${rows}: expected ${expected}, ${got}` }];
}

/** The attempts as expectations code, one table per entry (to review a change, or start a module's file). */
export function describeAttempts(attempts: Attempt[]): string {
  const lines: string[] = [];
  const outcome = (table: string, role: Role, command: Command, target: Target) =>
    attempts.find((x) => x.table === table && x.role === role && x.command === command && x.target === target)?.outcome;
  for (const table of new Set(attempts.map((x) => x.table))) {
    lines.push(`  ${table.split(".")[1]}: {`);
    for (const command of COMMANDS) {
      const cells = ROLES.map((role) => {
        const own = outcome(table, role, command, "own");
        const other = outcome(table, role, command, "other");
        return !other || other === own ? `${role}: "${own}"` : `${role}: ["${own}", "${other}"]`;
      });
      lines.push(`    ${command}: { ${cells.join(", ")} },`);
    }
    lines.push("  },");
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Cross-tenant references

/** Rows whose foreign key points at a row of another tenant, in every table that has tenants. */
export async function crossTenantReferences(
  client: pg.ClientBase,
  relations: Relation[],
  tenancyOf: Map<string, Tenancy>,
): Promise<string[]> {
  const byName = new Map(relations.map((r) => [r.name, r]));
  const problems: string[] = [];
  for (const relation of relations) {
    const tenancy = tenancyOf.get(relation.name);
    if (!tenancy || relation.kind !== "table") continue;
    for (const key of relation.foreignKeys) {
      const target = byName.get(key.target);
      const through = target && tenancyOf.get(target.name);
      if (!target || !through) continue;
      const join = key.columns.map((name, i) => `${column("f", key.targetColumns[i]!)} = ${column("r", name)}`);
      const { rows } = await client.query<{ n: number }>(
        `select count(*)::int as n from ${relation.name} r join ${target.name} f on ${join.join(" and ")}
         where ${through.expression("f")} is distinct from ${tenancy.expression("r")}`,
      );
      if (rows[0]!.n > 0) {
        problems.push(`${relation.name}: ${rows[0]!.n} rows point at another tenant's ${target.name} (${key.name})`);
      }
    }
  }
  return problems;
}
