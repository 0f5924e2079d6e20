/**
 * SMTP misbehaving under `npm run worker` (a real child process and a real SMTP server):
 *
 * - answering 451 half-way through a batch, then recovering: the retried jobs send only to the
 *   recipients not yet served, so each mailbox holds exactly one message;
 * - accepting connections and never greeting: e-mail waits, but a domain event and the heartbeat
 *   job still run; once the server greets again, each mailbox holds exactly one message.
 */
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import { startFaultySmtp, type FaultySmtp } from "../../helpers/faultySmtp.ts";
import { until } from "../../helpers/wait.ts";
import { emailJobsLeft, enqueueEmail, startWorkerProcess, type WorkerProcess } from "../../helpers/workerProcess.ts";

let db: TestDatabase;
let smtp: FaultySmtp;
let worker: WorkerProcess | undefined;
beforeEach(async () => {
  db = await createTestDatabase();
  smtp = await startFaultySmtp();
});
afterEach(async () => {
  const code = await worker?.stop();
  worker = undefined;
  await smtp.close();
  await db.drop();
  expect(code).toBe(0);
});

/** Recipients that did not get exactly one message, with what they got. */
function notExactlyOnce(expected: string[]): Array<[string, number]> {
  const counts = smtp.countsByRecipient();
  return expected.filter((to) => counts.get(to) !== 1).map((to) => [to, counts.get(to) ?? 0]);
}

async function failedEmailJobs(pattern: string): Promise<number> {
  const { rows } = await db.ownerPool.query<{ n: number }>(
    "select count(*)::int as n from graphile_worker.jobs where task_identifier = 'send_email' and last_error like $1",
    [pattern],
  );
  return rows[0]!.n;
}

test.each(["rcpt", "data"] as const)(
  "SMTP answers 451 at %s half-way, then recovers: each recipient gets exactly one message",
  async (stage) => {
    const batch = Array.from({ length: 80 }, (_, i) => `batch${i}@example.test`);
    const single = Array.from({ length: 20 }, (_, i) => `single${i}@example.test`);
    await enqueueEmail(db, "event_cancelled", batch, {
      title: "Cancelled: Meetup",
      content: "Meetup has been cancelled.",
    });
    for (const to of single) await enqueueEmail(db, "password_changed", to);
    smtp.refuseAfter(30, 451, stage);

    worker = await startWorkerProcess(db, { SMTP_URL: smtp.url });
    // The batch job failed part-way (its first recipients served): a retry must not serve them again.
    await until(async () => (await failedEmailJobs("%451%")) > 0, "a send_email job to fail with 451", 30_000);
    smtp.recover();
    await until(async () => (await emailJobsLeft(db)) === 0, "every send_email job to complete", 90_000);

    expect(notExactlyOnce([...batch, ...single])).toEqual([]);
    expect(smtp.accepted).toHaveLength(batch.length + single.length);
  },
  150_000,
);

test("SMTP silent: other jobs still run; once it greets, each recipient gets exactly one message", async () => {
  const batch = Array.from({ length: 30 }, (_, i) => `batch${i}@example.test`);
  const single = Array.from({ length: 12 }, (_, i) => `single${i}@example.test`);
  await enqueueEmail(db, "event_cancelled", batch, {
    title: "Cancelled: Meetup",
    content: "Meetup has been cancelled.",
  });
  for (const to of single) await enqueueEmail(db, "password_changed", to);
  smtp.silent();

  worker = await startWorkerProcess(db, {
    SMTP_URL: smtp.url,
    WORKER_CONCURRENCY: "2",
    MAIL_CONCURRENCY: "2",
    SMTP_CONNECT_TIMEOUT_MS: "1000",
  });
  await until(() => smtp.waitingForGreeting > 0, "the worker to wait for a greeting", 30_000);

  // A new tenant (its tenant_created domain event sets up its modules) and a heartbeat job.
  const { rows } = await db.ownerPool.query<{ id: string; at: Date }>(
    "insert into app_public.tenants (slug, name) values ('silent', 'Silent') returning id, now() as at",
  );
  const { id: tenantId, at: enqueuedAt } = rows[0]!;
  await db.ownerPool.query("select graphile_worker.add_job('worker_heartbeat', '{}')");
  const catalogue = (await db.ownerPool.query<{ n: number }>("select count(*)::int as n from app_public.modules"))
    .rows[0]!.n;
  const modules = async () =>
    (
      await db.ownerPool.query<{ n: number }>(
        "select count(*)::int as n from app_public.tenant_modules where tenant_id = $1",
        [tenantId],
      )
    ).rows[0]!.n;
  const beatSince = async () =>
    (await db.ownerPool.query("select 1 from app_private.worker_heartbeat where beat_at >= $1", [enqueuedAt]))
      .rowCount === 1;
  // 20 s: the old worker's SMTP greeting timeout (30 s) held every slot longer than that.
  await until(
    async () => (await modules()) === catalogue && (await beatSince()),
    "the domain event and the heartbeat to run",
    20_000,
  );
  expect(await emailJobsLeft(db)).toBeGreaterThan(0);
  expect(smtp.accepted).toEqual([]);

  smtp.recover();
  await until(async () => (await emailJobsLeft(db)) === 0, "every send_email job to complete", 90_000);
  expect(notExactlyOnce([...batch, ...single])).toEqual([]);
  expect(smtp.accepted).toHaveLength(batch.length + single.length);
}, 150_000);
