/**
 * send_email against a real SMTP server: one message per recipient with a Message-ID stable per
 * (job, recipient), a retry resumes after the recipients already served, an address refused for
 * good does not stop the others, and the delivery records go with their job.
 */
import { MODULES } from "../../src/modules/index.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { makeTaskList } from "../../src/platform/worker/registry.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { startFaultySmtp, type FaultySmtp } from "../helpers/faultySmtp.ts";
import { runDueJobs } from "../helpers/jobs.ts";
import { until } from "../helpers/wait.ts";
import { enqueueEmail } from "../helpers/workerProcess.ts";

let db: TestDatabase;
let smtp: FaultySmtp;
beforeEach(async () => {
  db = await createTestDatabase();
  smtp = await startFaultySmtp();
});
afterEach(async () => {
  await smtp.close();
  await db.drop();
});

const logger = createLogger("silent");
const run = () => {
  const { send_email, cleanup_expired } = makeTaskList({
    modules: MODULES,
    mail: { smtpUrl: smtp.url, from: "Tessera <no-reply@example.test>" },
    logger,
  });
  return runDueJobs(db.ownerPool, { send_email, cleanup_expired });
};
const job = async (id: string) =>
  (
    await db.ownerPool.query<{ attempts: number; last_error: string | null }>(
      "select attempts, last_error from graphile_worker.jobs where id = $1",
      [id],
    )
  ).rows[0];
// runOnce returns before graphile-worker has written a job's outcome (it does not await it).
const failed = (id: string) => until(async () => (await job(id))?.last_error != null, `job ${id} to be marked failed`);
const gone = (id: string) => until(async () => (await job(id)) === undefined, `job ${id} to complete`);

test("a 451 half-way: the retry serves only the rest, each message keeps its Message-ID", async () => {
  const recipients = ["a@example.test", "b@example.test", "c@example.test"];
  const id = await enqueueEmail(db, "event_cancelled", recipients, {
    title: "Cancelled: Meetup",
    content: "Meetup has been cancelled.",
  });
  smtp.refuseAfter(1, 451, "data");
  await run();
  await failed(id);
  expect(await job(id)).toEqual({ attempts: 1, last_error: expect.stringContaining("451") });
  expect(smtp.accepted.map((m) => m.to)).toEqual([["a@example.test"]]);

  smtp.recover();
  // As an operator's retryJob would: run it now rather than after the backoff.
  await db.ownerPool.query("select graphile_worker.reschedule_jobs(array[$1]::bigint[], run_at => now())", [id]);
  await run();
  await gone(id);
  expect(smtp.accepted.map((m) => m.to)).toEqual([["a@example.test"], ["b@example.test"], ["c@example.test"]]);
  const ids = smtp.accepted.map((m) => m.messageId);
  for (const messageId of ids) expect(messageId).toMatch(new RegExp(`^<job-${id}\\.[0-9a-f]{24}@example\\.test>$`));
  expect(new Set(ids).size).toBe(3);
  const recorded = await db.ownerPool.query<{ message_id: string }>(
    "select message_id from app_private.email_deliveries where job_id = $1 order by delivered_at",
    [id],
  );
  expect(recorded.rows.map((row) => row.message_id).sort()).toEqual([...ids].sort());
});

test("an address refused for good (550) is recorded, not retried, and the others still get theirs", async () => {
  smtp.refuseRecipient("gone@example.test", 550);
  const id = await enqueueEmail(db, "event_cancelled", ["a@example.test", "gone@example.test", "c@example.test"], {
    title: "Cancelled: Meetup",
    content: "Meetup has been cancelled.",
  });
  await run();
  await gone(id);
  expect(smtp.accepted.map((m) => m.to)).toEqual([["a@example.test"], ["c@example.test"]]);
  const outcomes = await db.ownerPool.query<{ outcome: string }>(
    "select outcome from app_private.email_deliveries where job_id = $1 order by outcome",
    [id],
  );
  expect(outcomes.rows.map((row) => row.outcome)).toEqual(["rejected", "sent", "sent"]);
});

test("cleanup_expired deletes the delivery records of jobs that are gone, never of a job still queued", async () => {
  const done = await enqueueEmail(db, "password_changed", "done@example.test");
  await run();
  await gone(done);
  const waiting = await enqueueEmail(db, "event_cancelled", ["x@example.test", "y@example.test"], {
    title: "Cancelled: Meetup",
    content: "Meetup has been cancelled.",
  });
  smtp.refuseAfter(smtp.accepted.length + 1, 451, "rcpt");
  await run();
  await failed(waiting);
  expect(await job(waiting)).toEqual({ attempts: 1, last_error: expect.stringContaining("451") });

  const deliveries = async () =>
    (
      await db.ownerPool.query<{ job_id: string }>(
        "select job_id::text from app_private.email_deliveries order by job_id",
      )
    ).rows;
  expect(await deliveries()).toEqual([{ job_id: done }, { job_id: waiting }]);
  const { rows } = await db.ownerPool.query<{ id: string }>(
    "select id from graphile_worker.add_job('cleanup_expired', '{}')",
  );
  await run();
  await gone(rows[0]!.id);
  expect(await deliveries()).toEqual([{ job_id: waiting }]);
});

test("an address listed twice (in any case) gets one message", async () => {
  const id = await enqueueEmail(
    db,
    "event_cancelled",
    ["Twice@example.test", "twice@example.test", "once@example.test"],
    { title: "Cancelled: Meetup", content: "Meetup has been cancelled." },
  );
  await run();
  await gone(id);
  expect(Object.fromEntries(smtp.countsByRecipient())).toEqual({ "twice@example.test": 1, "once@example.test": 1 });
});

test("an event's title with line breaks stays one Subject line and adds no header or recipient", async () => {
  const title = "Cancelled: Party\r\nBcc: victim@example.test\nX-Injected: yes";
  const id = await enqueueEmail(db, "event_cancelled", ["guest@example.test"], { title, content: "Party is off." });
  await run();
  await gone(id);
  expect(smtp.accepted.map((m) => m.to)).toEqual([["guest@example.test"]]);
  const [mail] = smtp.accepted;
  expect(mail!.subject).toBe("Cancelled: Party Bcc: victim@example.test X-Injected: yes");
  expect(mail!.raw).not.toMatch(/^(Bcc|X-Injected):/im);
});

test("a recipient that is no e-mail address is refused alone: a line break or a comma adds no recipient", async () => {
  const odd = ["guest@example.test\r\nBcc: victim@example.test", "a@example.test,victim@example.test", "not an email"];
  const id = await enqueueEmail(db, "password_changed", ["first@example.test", ...odd, "last@example.test"]);
  await run();
  await gone(id);
  expect(smtp.accepted.map((m) => m.to)).toEqual([["first@example.test"], ["last@example.test"]]);
  const outcomes = await db.ownerPool.query<{ outcome: string; detail: string | null }>(
    "select outcome, detail from app_private.email_deliveries where job_id = $1 order by outcome",
    [id],
  );
  expect(outcomes.rows).toEqual([
    ...odd.map(() => ({ outcome: "rejected", detail: "not an e-mail address" })),
    { outcome: "sent", detail: null },
    { outcome: "sent", detail: null },
  ]);
});

test("a job whose data do not fit its template is dropped, not sent half-empty nor retried", async () => {
  const noTitle = await enqueueEmail(db, "event_reminder", ["guest@example.test"], { content: "Soon." });
  const noCode = await enqueueEmail(db, "registration_code", ["guest@example.test"], { minutes: 15 });
  const blankTitle = await enqueueEmail(db, "event_cancelled", ["guest@example.test"], {
    title: " \t ",
    content: "Off.",
  });
  await run();
  for (const id of [noTitle, noCode, blankTitle]) await gone(id);
  expect(smtp.accepted).toEqual([]);
  expect((await db.ownerPool.query("select 1 from app_private.email_deliveries")).rowCount).toBe(0);
});
