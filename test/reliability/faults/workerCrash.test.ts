/**
 * A worker process killed with SIGKILL in the middle of sending: another worker runs the jobs it
 * held once its heartbeat is stale (here after 4 s, WORKER_STALE_SECONDS), instead of after
 * graphile-worker's 4 hours, and every recipient gets exactly one message.
 *
 * The SMTP server holds back its answer once 25 messages are in: the kill then lands while
 * messages are in flight, after every message the server accepted has been recorded — the only
 * moment a kill is not allowed to cost a duplicate (docs/outbox.md).
 */
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import { startFaultySmtp, type FaultySmtp } from "../../helpers/faultySmtp.ts";
import { until } from "../../helpers/wait.ts";
import {
  emailJobsLeft,
  enqueueEmail,
  recordedDeliveries,
  startWorkerProcess,
  type WorkerProcess,
} from "../../helpers/workerProcess.ts";

let db: TestDatabase;
let smtp: FaultySmtp;
beforeAll(async () => {
  db = await createTestDatabase();
  smtp = await startFaultySmtp();
});
afterAll(async () => {
  await smtp.close();
  await db.drop();
});

test("SIGKILL mid-way: the next worker runs the dead one's " +
  "jobs, and each recipient gets exactly one message", async () => {
  // A cancellation batch (one job, many recipients) and one reminder job per participant.
  const batch = Array.from({ length: 60 }, (_, i) => `cancelled${i}@example.test`);
  const reminded = Array.from({ length: 60 }, (_, i) => `reminded${i}@example.test`);
  await enqueueEmail(db, "event_cancelled", batch, {
    title: "Cancelled: Meetup",
    content: "Meetup has been cancelled.",
  });
  for (const to of reminded)
    await enqueueEmail(db, "event_reminder", to, {
      title: "Reminder: Meetup",
      content: "Meetup starts at 2030-01-01 10:00 UTC.",
    });

  const env = {
    SMTP_URL: smtp.url,
    WORKER_CONCURRENCY: "2",
    MAIL_CONCURRENCY: "2",
    WORKER_HEARTBEAT_SECONDS: "1",
    WORKER_STALE_SECONDS: "4",
  };
  smtp.holdAfter(25);
  const first = await startWorkerProcess(db, env);
  let second: WorkerProcess | undefined;
  try {
    await until(
      async () => {
        if (smtp.held === 0) return false;
        const recorded = await recordedDeliveries(db);
        return recorded === null || recorded === smtp.accepted.length;
      },
      "messages in flight, every accepted one recorded",
      30_000,
    );
    first.child.kill("SIGKILL");
    await first.exited;
    // The dead client never heard "250" for the held messages: they were not delivered.
    await until(() => smtp.openConnections === 0, "the dead worker's SMTP connections to close");
    smtp.recover();
    const stranded = await db.ownerPool.query<{ n: number }>(
      "select count(*)::int as n from graphile_worker.jobs where locked_at is not null",
    );
    expect(stranded.rows[0]!.n).toBeGreaterThan(0);

    second = await startWorkerProcess(db, env);
    await until(async () => (await emailJobsLeft(db)) === 0, "every send_email job to complete", 90_000);

    const counts = smtp.countsByRecipient();
    const expected = [...batch, ...reminded];
    expect(expected.filter((to) => counts.get(to) !== 1).map((to) => [to, counts.get(to) ?? 0])).toEqual([]);
    expect(smtp.accepted).toHaveLength(expected.length);
  } finally {
    if (first.child.exitCode === null && first.child.signalCode === null) first.child.kill("SIGKILL");
    if (second) expect(await second.stop()).toBe(0);
  }
}, 150_000);
