/**
 * SMTP misbehaving under `npm run worker` (a real child process and a real SMTP server):
 *
 * - answering 451 half-way through a batch, then recovering: the retried jobs send only to the
 *   recipients not yet served, so each mailbox holds exactly one message;
 * - accepting connections and never greeting: e-mail waits, but a domain event and the heartbeat
 *   job still run; once the server greets again, each mailbox holds exactly one message;
 * - down, its port closed (every connection refused): the e-mail jobs fail and are retried with
 *   graphile-worker's backoff, each failure visible to the tenant's owner in `failedJobs` (attempts,
 *   last error, next run); once a server listens on the port, each mailbox holds exactly one message.
 */
import type { AddressInfo } from "node:net";
import { loadConfig, MODULES } from "../../../src/modules/index.ts";
import { createLogger } from "../../../src/platform/logger.ts";
import { createTesseraServer } from "../../../src/platform/server.ts";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import { startFaultySmtp, type FaultySmtp } from "../../helpers/faultySmtp.ts";
import { createTenant, createUser, TEST_JWT_SECRET } from "../../helpers/fixtures.ts";
import { freePort } from "../../helpers/process.ts";
import { until } from "../../helpers/wait.ts";
import { emailJobsLeft, enqueueEmail, startWorkerProcess, type WorkerProcess } from "../../helpers/workerProcess.ts";
import { msSince, reportFigures } from "./figures.ts";

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
    const failedJobs = await failedEmailJobs("%451%");
    smtp.recover();
    const recovered = performance.now();
    await until(async () => (await emailJobsLeft(db)) === 0, "every send_email job to complete", 90_000);

    reportFigures(`mailFaults: 451 at ${stage}`, {
      jobs: 1 + single.length,
      mails: smtp.accepted.length,
      refusals451: smtp.refusals,
      failedJobs,
      notExactlyOnce: notExactlyOnce([...batch, ...single]).length,
      msRecoverToAllDelivered: msSince(recovered),
    });
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
  const silentSince = performance.now();
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
  const otherJobsMs = msSince(silentSince);
  expect(await emailJobsLeft(db)).toBeGreaterThan(0);
  expect(smtp.accepted).toEqual([]);

  const waiting = smtp.waitingForGreeting;
  smtp.recover();
  const recovered = performance.now();
  await until(async () => (await emailJobsLeft(db)) === 0, "every send_email job to complete", 90_000);
  reportFigures("mailFaults: silent SMTP", {
    jobs: 1 + single.length + 2,
    mails: smtp.accepted.length,
    connectionsWaitingForGreeting: waiting,
    msOtherJobsDoneWhileSilent: otherJobsMs,
    notExactlyOnce: notExactlyOnce([...batch, ...single]).length,
    msRecoverToAllDelivered: msSince(recovered),
  });
  expect(notExactlyOnce([...batch, ...single])).toEqual([]);
  expect(smtp.accepted).toHaveLength(batch.length + single.length);
}, 150_000);

const FAILED = "{ failedJobs { nodes { rowId task attempts maxAttempts lastError runAt } } }";

interface FailedJob {
  rowId: string;
  task: string;
  attempts: number;
  maxAttempts: number;
  lastError: string;
  runAt: string;
}

test("SMTP down, its port closed: jobs fail and retry with backoff, shown in failedJobs; " +
  "once SMTP listens, each recipient gets exactly one message", async () => {
  // The API in this process, on the file's database: the tenant's owner reads failedJobs there.
  const config = {
    ...loadConfig({ APP_ENV: "test", JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: "silent" }),
    database: db.urls,
  };
  const server = await createTesseraServer({
    modules: MODULES,
    config,
    database: db.urls,
    logger: createLogger("silent"),
  });
  await new Promise<void>((resolve) => server.httpServer.listen(0, "127.0.0.1", resolve));
  const api = `http://127.0.0.1:${(server.httpServer.address() as AddressInfo).port}`;
  const tenant = await createTenant(db.ownerPool);
  const owner = await createUser(db.ownerPool, tenant, "owner");
  const failedJobs = async (): Promise<FailedJob[]> => {
    const response = await fetch(`${api}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${owner.token}` },
      body: JSON.stringify({ query: FAILED }),
    });
    const body = (await response.json()) as { data: { failedJobs: { nodes: FailedJob[] } } };
    return body.data.failedJobs.nodes;
  };

  // The tenant's e-mail, as its SQL enqueues it: a cancellation batch and single messages.
  const batch = Array.from({ length: 30 }, (_, i) => `batch${i}@example.test`);
  const single = Array.from({ length: 10 }, (_, i) => `single${i}@example.test`);
  const enqueue = (template: string, to: string | string[]) =>
    db.ownerPool.query(
      "select graphile_worker.add_job('send_email', json_build_object('template', $1::text, 'to', $2::json, " +
        "'tenantId', $3::uuid, 'data', json_build_object('title', 'Cancelled: Meetup', 'content', 'Off.')))",
      [template, JSON.stringify(to), tenant.id],
    );
  await enqueue("event_cancelled", batch);
  for (const to of single) await enqueue("password_changed", to);
  const jobs = 1 + single.length;

  // Nothing listens on the port: every connection is refused.
  const port = await freePort();
  worker = await startWorkerProcess(db, {
    SMTP_URL: `smtp://127.0.0.1:${port}`,
    MAIL_CONCURRENCY: "2",
    SMTP_CONNECT_TIMEOUT_MS: "1000",
  });
  let down: FaultySmtp | undefined;
  try {
    // Every job failed, and was retried after a delay at least once: two attempts each. Each
    // failure seen is noted with how far ahead its next attempt was scheduled.
    const delays = new Map<string, number>();
    const noteFailures = async () => {
      const { rows } = await db.ownerPool.query<{ id: string; attempts: number; seconds: number }>(
        `select id, attempts, extract(epoch from run_at - now())::float as seconds
         from graphile_worker.jobs where task_identifier = 'send_email' and attempts > 0 and locked_at is null`,
      );
      for (const row of rows)
        if (!delays.has(`${row.id}:${row.attempts}`)) delays.set(`${row.id}:${row.attempts}`, row.seconds);
    };
    await until(
      async () => {
        await noteFailures();
        const failed = await failedJobs();
        return failed.length === jobs && failed.every((job) => job.attempts >= 2);
      },
      "every e-mail job to fail twice",
      60_000,
    );
    const failed = await failedJobs();
    for (const job of failed) {
      expect({ ...job, lastError: job.lastError.split("\n")[0] }).toEqual({
        rowId: job.rowId,
        task: "send_email",
        attempts: job.attempts,
        maxAttempts: 25,
        lastError: expect.stringMatching(/ECONNREFUSED/),
        runAt: job.runAt,
      });
    }
    // Retried with backoff: after each failure the next attempt is scheduled ahead, never at once.
    expect([...delays].filter(([, seconds]) => seconds <= 0)).toEqual([]);
    expect(smtp.accepted).toEqual([]);

    // SMTP is back on the same port: the next attempts deliver.
    down = await startFaultySmtp({ port });
    const back = performance.now();
    await until(async () => (await emailJobsLeft(db)) === 0, "every send_email job to complete", 90_000);
    expect(await failedJobs()).toEqual([]);
    reportFigures("mailFaults: SMTP port closed", {
      jobs,
      mails: down.accepted.length,
      failedAttemptsSeen: failed.reduce((sum, job) => sum + job.attempts, 0),
      maxAttemptsSeen: Math.max(...failed.map((job) => job.attempts)),
      backoffSecondsAfterAttempt: backoffByAttempt(delays),
      notExactlyOnce: [...batch, ...single].filter((to) => down!.countsByRecipient().get(to) !== 1).length,
      msSmtpBackToAllDelivered: msSince(back),
    });
    const counts = down.countsByRecipient();
    expect([...batch, ...single].filter((to) => counts.get(to) !== 1)).toEqual([]);
    expect(down.accepted).toHaveLength(batch.length + single.length);
  } finally {
    await worker.stop();
    await down?.close();
    await server.close();
  }
}, 150_000);

/** The longest delay seen before the next attempt, per attempt number: "1: 2.7 s, 2: 7.3 s". */
function backoffByAttempt(delays: Map<string, number>): string {
  const longest = new Map<number, number>();
  for (const [key, seconds] of delays) {
    const attempt = Number(key.split(":")[1]);
    longest.set(attempt, Math.max(longest.get(attempt) ?? 0, seconds));
  }
  return [...longest]
    .sort(([a], [b]) => a - b)
    .map(([attempt, seconds]) => `${attempt}: ${seconds.toFixed(1)} s`)
    .join(", ");
}
