/**
 * The builds tests' tenant, GraphQL documents and jobs: run_build wrapped as the worker runs it
 * (payload parsed by its schema, the worker's configuration in the context), with the builds
 * settings a test chooses.
 */
import type { JobHelpers, TaskList } from "graphile-worker";
import type pg from "pg";
import { buildsConfig, type BuildsConfig } from "../../src/modules/builds/config.ts";
import { runBuild } from "../../src/modules/builds/tasks.ts";
import type { ConfigFragment } from "../../src/platform/config.ts";
import { gql } from "../commerce/store.ts";
import type { TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestTenant, type TestUser } from "../helpers/fixtures.ts";
import { runDueJobs } from "../helpers/jobs.ts";

export const BUILD_FIELDS = "rowId status modules startedAt finishedAt";

export const REQUEST_BUILD = `mutation { requestBuild(input: {}) { build { ${BUILD_FIELDS} } } }`;
export const CANCEL_BUILD = "mutation($id: UUID!) { cancelBuild(input: { id: $id }) { build { rowId status } } }";
export const ACTIVATE = `mutation($buildId: UUID!) {
  activateRelease(input: { buildId: $buildId }) { release { rowId status buildId } } }`;
export const ROLLBACK = "mutation { rollbackRelease(input: {}) { release { rowId status buildId } } }";

export interface BuildTenant {
  tenant: TestTenant;
  admin: TestUser;
  member: TestUser;
}

export async function createBuildTenant(app: TestApp): Promise<BuildTenant> {
  const tenant = await createTenant(app.db.ownerPool);
  const admin = await createUser(app.db.ownerPool, tenant, "admin");
  const member = await createUser(app.db.ownerPool, tenant, "member");
  return { tenant, admin, member };
}

export async function requestBuild(app: TestApp, token: string): Promise<string> {
  const data = await gql(app, token, REQUEST_BUILD);
  return data.requestBuild.build.rowId;
}

/** run_build as the worker runs it, with these builds settings (the rest of the app's configuration). */
export function buildTasks(app: TestApp, settings: Partial<BuildsConfig> = {}): TaskList {
  const fragments = new Map(app.config.fragments);
  fragments.set(buildsConfig as ConfigFragment<unknown>, { ...buildsConfig.of(app.config), ...settings });
  const config = { ...app.config, fragments };
  return {
    run_build: (payload: unknown, helpers: JobHelpers) =>
      runBuild.run(runBuild.payload.parse(payload), helpers, { config }),
  };
}

export function runBuildJobs(app: TestApp, tasks: TaskList): Promise<void> {
  return runDueJobs(app.db.ownerPool, tasks);
}

export async function buildRow(pool: pg.Pool, id: string) {
  const { rows } = await pool.query<{ status: string; line_count: number }>(
    "select status, line_count from app_public.builds where id = $1",
    [id],
  );
  return rows[0];
}

export async function logOf(pool: pg.Pool, id: string): Promise<Array<[string, string]>> {
  const { rows } = await pool.query<{ stream: string; text: string }>(
    "select stream, text from app_public.build_log_lines where build_id = $1 order by line_number",
    [id],
  );
  return rows.map((row) => [row.stream, row.text]);
}
