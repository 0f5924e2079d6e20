/** app_private.remove_jobs: pending jobs cancelled by key in one statement; a running one is left alone. */
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { queuedJobs } from "../helpers/jobs.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

test("remove_jobs cancels the pending jobs with the given keys and leaves running and other jobs", async () => {
  await db.ownerPool.query(
    `select graphile_worker.add_job('event_reminder', json_build_object('participantId', k),
       job_key => k, run_at => now() + interval '1 day')
     from unnest(array['rm:pending-1', 'rm:pending-2', 'rm:running', 'rm:other']) k`,
  );
  // A worker holds this one: it is running, and must be left to finish.
  await db.ownerPool.query(
    "update graphile_worker._private_jobs set locked_at = now(), locked_by = 'test' where key = 'rm:running'",
  );
  await db.ownerPool.query("select app_private.remove_jobs($1)", [
    ["rm:pending-1", "rm:pending-2", "rm:running", "rm:no-such-job"],
  ]);
  const keys = (await queuedJobs(db.ownerPool, "event_reminder"))
    .map((job) => job.key)
    .filter((key) => key?.startsWith("rm:"));
  expect(keys.sort()).toEqual(["rm:other", "rm:running"]);
});

test("the request roles cannot call remove_jobs", async () => {
  const { rows } = await db.rootPool.query<{ visitor: boolean; authenticator: boolean }>(
    `select has_function_privilege($1, 'app_private.remove_jobs(text[])', 'execute') as visitor,
            has_function_privilege($2, 'app_private.remove_jobs(text[])', 'execute') as authenticator`,
    [db.urls.visitorRole, decodeURIComponent(new URL(db.urls.authenticatorUrl).username)],
  );
  expect(rows[0]).toEqual({ visitor: false, authenticator: false });
});
