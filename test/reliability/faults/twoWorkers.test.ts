/**
 * Two worker processes on one queue: every job runs exactly once — none lost, none duplicated —
 * and both processes take a share (graphile-worker's SKIP LOCKED; each fetches up to 200 jobs into
 * its local queue, so the batch is larger than that). E-mails go to the no-send fallback so the
 * test measures the queue, not SMTP.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { projectRoot } from "../../../src/platform/paths.ts";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import { until } from "../../helpers/wait.ts";
import { msSince, reportFigures } from "./figures.ts";

const JOBS = 1200;
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

test(`${JOBS} jobs over two worker processes: each delivered exactly once, both workers busy`, async () => {
  const workers: Array<{ child: ChildProcess; output: string[]; exited: Promise<number | null> }> = [];
  for (let i = 0; i < 2; i++) {
    const child = spawn(process.execPath, [join(projectRoot, "src", "cli", "worker.ts")], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: db.urls.ownerUrl,
        DATABASE_AUTHENTICATOR_URL: db.urls.authenticatorUrl,
        WORKER_CONCURRENCY: "4",
        LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const output: string[] = [];
    child.stdout!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    workers.push({ child, output, exited: new Promise((resolve) => child.on("exit", resolve)) });
  }
  try {
    await until(
      () => workers.every((w) => w.output.join("").includes("Worker connected")),
      "both workers to start",
      30_000,
    );
    await db.ownerPool.query(
      `select graphile_worker.add_jobs(array_agg(row('send_email',
         json_build_object('template', 'password_changed', 'to', 'user' || i || '@example.test'),
         null, null, null, null, null, null)::graphile_worker.job_spec)) from generate_series(1, $1) i`,
      [JOBS],
    );
    const completed = () =>
      workers.map((w) => [...w.output.join("").matchAll(/Completed task (\d+) \(send_email/g)].map((m) => m[1]!));
    const enqueued = performance.now();
    await until(() => completed().flat().length >= JOBS, `${JOBS} completed jobs`, 60_000).catch(() => {});
    const doneMs = msSince(enqueued);

    const [first, second] = completed();
    const all = [...first!, ...second!];
    reportFigures("twoWorkers", {
      jobs: JOBS,
      completed: all.length,
      duplicates: all.length - new Set(all).size,
      byFirstWorker: first!.length,
      bySecondWorker: second!.length,
      msEnqueueToAllCompleted: doneMs,
    });
    expect(all).toHaveLength(JOBS);
    expect(new Set(all).size).toBe(JOBS);
    expect(first!.length).toBeGreaterThan(0);
    expect(second!.length).toBeGreaterThan(0);
    // "Completed task" is logged before the batched delete of completed jobs: the queue empties
    // shortly after the last line.
    const remaining = async () =>
      (
        await db.ownerPool.query(
          "select count(*)::int as n from graphile_worker.jobs where task_identifier = 'send_email'",
        )
      ).rows[0].n as number;
    await until(async () => (await remaining()) === 0, "the queue to empty", 20_000);
    expect(await remaining()).toBe(0);
  } finally {
    for (const w of workers) w.child.kill("SIGTERM");
    expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0]);
  }
}, 150_000);
