/**
 * `npm run worker` as a child process on a test database — what an operator runs in production —
 * for tests that kill it, and the queries fault tests share about send_email jobs.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { projectRoot } from "../../src/platform/paths.ts";
import type { TestDatabase } from "./database.ts";
import { until } from "./wait.ts";

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  /** SIGTERM if still running, and its exit code. */
  stop(): Promise<number | null>;
}

/** Starts `npm run worker` on `db` (a test database, or any database with the test roles' URLs). */
export async function startWorkerProcess(
  db: Pick<TestDatabase, "urls">,
  env: Record<string, string>,
): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [join(projectRoot, "src", "cli", "worker.ts")], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: db.urls.ownerUrl,
      DATABASE_AUTHENTICATOR_URL: db.urls.authenticatorUrl,
      LOG_LEVEL: "info",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const chunks: string[] = [];
  child.stdout!.on("data", (chunk: Buffer) => chunks.push(chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => chunks.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const worker: WorkerProcess = {
    child,
    output: () => chunks.join(""),
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
  try {
    await until(
      () => worker.output().includes("Worker connected") || child.exitCode !== null,
      "the worker process to connect",
      // A failure bound: a child boots slowly when two test runs share two cores (docs/testing.md).
      60_000,
    );
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${(error as Error).message}\n${worker.output()}`);
  }
  if (child.exitCode !== null) throw new Error(`the worker process exited (${child.exitCode})\n${worker.output()}`);
  return worker;
}

/** Enqueues one send_email job (as app_private.enqueue_job would); returns its id. */
export async function enqueueEmail(
  db: TestDatabase,
  template: string,
  to: string | string[],
  data: Record<string, unknown> = {},
): Promise<string> {
  const { rows } = await db.ownerPool.query<{ id: string }>(
    "select id from graphile_worker.add_job('send_email', json_build_object('template', $1::text, 'to', " +
      "$2::json, 'data', $3::json))",
    [template, JSON.stringify(to), JSON.stringify(data)],
  );
  return rows[0]!.id;
}

/** send_email jobs still in the queue (waiting, retrying or running). */
export async function emailJobsLeft(db: Pick<TestDatabase, "ownerPool">): Promise<number> {
  const { rows } = await db.ownerPool.query<{ n: number }>(
    "select count(*)::int as n from graphile_worker.jobs where task_identifier = 'send_email'",
  );
  return rows[0]!.n;
}

/**
 * Messages the worker has recorded as delivered, or null where that record does not exist (the
 * code before per-recipient delivery records).
 */
export async function recordedDeliveries(db: TestDatabase): Promise<number | null> {
  const exists = await db.ownerPool.query(
    "select 1 from pg_class where oid = to_regclass('app_private.email_deliveries')",
  );
  if (exists.rowCount === 0) return null;
  const { rows } = await db.ownerPool.query<{ n: number }>(
    "select count(*)::int as n from app_private.email_deliveries",
  );
  return rows[0]!.n;
}
