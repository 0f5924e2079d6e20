/**
 * What each module expects of the access matrix: for every table it owns, for every role and
 * command, the outcome on a row of the caller's own tenant and on a row of another tenant. One
 * file per module of MODULES in ./expectations/<module>.ts (docs/access-matrix.md).
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Who attempts: nobody signed in, the four built-in roles of tenant A, and a bot of tenant A. */
export const ROLES = ["anonymous", "member", "manager", "admin", "owner", "bot"] as const;
export type Role = (typeof ROLES)[number];

export const COMMANDS = ["select", "insert", "update", "delete"] as const;
export type Command = (typeof COMMANDS)[number];

/**
 * What an attempt did.
 * - select: `all` rows of that tenant visible, `some` of them, `none`, or `denied` (42501: no grant);
 * - insert, update, delete: `allowed` (privileges and row-level security let it through — it wrote,
 *   or only an integrity constraint stopped the copy), `none` (no row matched: row-level security
 *   hid them), `denied` (42501: no grant, or a `WITH CHECK` refused the row), `refused` (a trigger
 *   or function of ours raised: TFORB, TVALD…, or a constraint stopped a row that would have been
 *   the caller's own), `redirected` (insert into the other tenant only: accepted, but the row was
 *   written to the caller's own tenant — the caller cannot name the tenant — and points at nothing
 *   of the other tenant).
 */
export type Outcome = "all" | "some" | "none" | "denied" | "allowed" | "refused" | "redirected";

/** The outcome on a row of the caller's own tenant, and on one of the other tenant; one value: both. */
export type Cell = Outcome | readonly [own: Outcome, other: Outcome];

export type CommandExpectations = Partial<Record<Role, Cell>>;

export interface TableExpectations {
  /**
   * Shared by every tenant (the catalogue: modules, permissions): its rows belong to no tenant, so
   * there is one outcome per role and command, and any write that succeeds is a failure.
   */
  shared?: true;
  select?: CommandExpectations;
  insert?: CommandExpectations;
  update?: CommandExpectations;
  delete?: CommandExpectations;
}

/** A module's expectations: the tables of app_public it owns (their comment's `@module` tag). */
export interface ModuleExpectations {
  module: string;
  tables: Record<string, TableExpectations>;
}

export function defineExpectations(module: string, tables: Record<string, TableExpectations>): ModuleExpectations {
  return { module, tables };
}

/** The same cell for every role. */
export function everyone(cell: Cell): CommandExpectations {
  return Object.fromEntries(ROLES.map((role) => [role, cell]));
}

/** Nothing for anyone: the request roles have no grant for the command. */
export const NO_GRANT: CommandExpectations = everyone("denied");

/** select: every row of the caller's own tenant, none of the other tenant's. */
export const OWN_ALL: Cell = ["all", "none"];

/** select: some rows of the caller's own tenant (their own, their chats'…), none of the other tenant's. */
export const OWN_SOME: Cell = ["some", "none"];

/** update: reaches the rows of the caller's own tenant, none of the other tenant's. */
export const OWN_WRITE: Cell = ["allowed", "none"];

/**
 * A failure bound for one run of a matrix, not a wait: alone on two cores a run takes seconds to a
 * minute, but beside other suites on the same cores it has taken several times longer.
 */
export const MATRIX_TIMEOUT_MS = 300_000;

export const EXPECTATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), "expectations");

/**
 * Every module's expectations file, in the order of `modules`; a module without a file is in
 * `missing` (the matrix fails naming it).
 */
export async function loadExpectations(
  modules: readonly string[],
): Promise<{ loaded: ModuleExpectations[]; missing: string[] }> {
  const loaded: ModuleExpectations[] = [];
  const missing: string[] = [];
  for (const module of modules) {
    const file = join(EXPECTATIONS_DIR, `${module}.ts`);
    if (!existsSync(file)) {
      missing.push(module);
      continue;
    }
    const imported = (await import(file)) as { default?: ModuleExpectations };
    if (!imported.default) throw new Error(`${file} has no default export (defineExpectations)`);
    loaded.push(imported.default);
  }
  return { loaded, missing };
}
