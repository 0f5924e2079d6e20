/**
 * A worker process killed with SIGKILL in the middle of a batch of jobs: another worker runs the
 * jobs it held once its heartbeat is stale (here after 4 s, WORKER_STALE_SECONDS), instead of after
 * graphile-worker's 4 hours, and every job has its effect exactly once:
 *
 * - e-mail: every recipient gets exactly one message at a real SMTP server. The server holds back
 *   its answer once 25 messages are in: the kill then lands while messages are in flight, after
 *   every message the server accepted has been recorded — the only moment a kill is not allowed to
 *   cost a duplicate (docs/outbox.md);
 * - notifications: an event with many participants is moved to start soon (a reminder job per
 *   participant) and another is cancelled (the fan-out job), ./notificationBatch.ts; each
 *   participant has exactly one reminder and one cancellation notification. Two participants' rows
 *   are held locked by the test, so both job slots are stuck mid-job when the kill lands and the rest
 *   of the batch sits in the dead worker's local queue.
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
import { msSince, reportFigures } from "./figures.ts";
import {
  batchJobs,
  exactlyOnceFigures,
  holdUsers,
  lockWaiters,
  notificationBatch,
  notificationsPerPerson,
  notified,
  remindedAt,
} from "./notificationBatch.ts";

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
    const acceptedBeforeKill = smtp.accepted.length;
    const heldAtKill = smtp.held;
    first.child.kill("SIGKILL");
    await first.exited;
    const killed = performance.now();
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
    reportFigures("workerCrash: e-mail", {
      jobs: 1 + reminded.length,
      mails: smtp.accepted.length,
      acceptedBeforeKill,
      heldAtKill,
      strandedJobs: stranded.rows[0]!.n,
      duplicates: expected.reduce((sum, to) => sum + Math.max(0, (counts.get(to) ?? 0) - 1), 0),
      lost: expected.filter((to) => !counts.has(to)).length,
      msKillToAllDone: msSince(killed),
    });
    expect(expected.filter((to) => counts.get(to) !== 1).map((to) => [to, counts.get(to) ?? 0])).toEqual([]);
    expect(smtp.accepted).toHaveLength(expected.length);
  } finally {
    if (first.child.exitCode === null && first.child.signalCode === null) first.child.kill("SIGKILL");
    if (second) expect(await second.stop()).toBe(0);
  }
}, 150_000);

test("SIGKILL mid-way through a batch of reminder and cancellation jobs: " +
  "each participant gets exactly one notification of each", async () => {
  const people = 150;
  const batch = await notificationBatch(db.ownerPool, people);
  expect(await batchJobs(db.ownerPool, batch)).toBe(batch.jobs);
  // The 50th and 51st reminders in queue order (and the fan-out, which includes both) will be stuck.
  const held = await holdUsers(db.ownerPool, await remindedAt(db.ownerPool, 49, 2));

  const env = { WORKER_CONCURRENCY: "2", WORKER_HEARTBEAT_SECONDS: "1", WORKER_STALE_SECONDS: "4" };
  let first: WorkerProcess | undefined;
  let second: WorkerProcess | undefined;
  try {
    first = await startWorkerProcess(db, env);
    await until(
      async () => (await lockWaiters(db.rootPool)) >= 2 && (await notified(db.ownerPool, batch)) > 0,
      "both job slots stuck mid-job after some notifications",
      30_000,
    );
    const notifiedBeforeKill = await notified(db.ownerPool, batch);
    first.child.kill("SIGKILL");
    await first.exited;
    const killed = performance.now();
    const stranded = await batchJobs(db.ownerPool, batch, true);
    // Mid-way: some notified, the dead worker still holding jobs it never finished.
    expect(notifiedBeforeKill).toBeLessThan(2 * people);
    expect(stranded).toBeGreaterThan(0);
    // The dead worker's two statements were waiting on the locks: PostgreSQL runs them to the end
    // (nothing tells a waiting backend that its client is gone), so their notifications land now.
    await held.release();
    await until(async () => (await lockWaiters(db.rootPool)) === 0, "the dead worker's statements to finish");
    const notifiedByOrphans = (await notified(db.ownerPool, batch)) - notifiedBeforeKill;

    second = await startWorkerProcess(db, env);
    await until(
      async () => (await batchJobs(db.ownerPool, batch)) === 0,
      "every reminder and fan-out job to complete",
      90_000,
    );

    const rows = await notificationsPerPerson(db.ownerPool, batch);
    reportFigures("workerCrash: notifications", {
      jobs: batch.jobs,
      ...exactlyOnceFigures(rows),
      notifiedBeforeKill,
      notifiedByOrphans,
      strandedJobs: stranded,
      msKillToAllDone: msSince(killed),
    });
    expect(rows.filter((row) => row.reminders !== 1 || row.cancellations !== 1)).toEqual([]);
    expect(rows).toHaveLength(people);
    expect(await notified(db.ownerPool, batch)).toBe(2 * people);
  } finally {
    await held.release();
    if (first?.child.exitCode === null && first.child.signalCode === null) first.child.kill("SIGKILL");
    if (second) expect(await second.stop()).toBe(0);
  }
}, 150_000);
