/**
 * PostgreSQL really stopped and started again under load, with the API (`npm run server`) and the
 * worker (`npm run worker`) as child processes on a cluster of the test's own
 * (./restartableCluster.ts: `pg_ctl stop -m fast`, then `pg_ctl start` on the same port and data):
 *
 * - during the outage every request needing the database answers 503 SERVICE_UNAVAILABLE with
 *   Retry-After (REST envelope, GraphQL errors), `/ready` answers 503, `/health` stays 200;
 * - once the server is back, both processes recover on their own — the same processes (PIDs), no
 *   restart, nothing uncaught in their logs: requests succeed again, a password-reset request made
 *   after the restart reaches the SMTP server (API → queue → the worker's mail runner), and a new
 *   tenant's domain event is delivered (the worker's jobs runner); the worker beats again;
 * - jobs in flight when the server stops — a reminder waiting on a row lock, an e-mail the SMTP
 *   server accepts while the database is down — end without their outcome written: they run
 *   again after the restart and every participant has exactly one notification; the e-mail
 *   accepted in the outage arrives again (the window docs/outbox.md describes), nothing is lost.
 *
 * A live subscription (`notificationAdded` over WebSocket) loses its LISTEN connection with the
 * server: it ends with an error, not silently; one made after the restart receives a notification.
 *
 * The load (GraphQL signed in and anonymous, REST, readiness, liveness) runs from before the stop
 * to after the recovery; no answer may be anything but success or 503. The database stays down
 * until the worker has missed three heartbeats and the API has answered 30 requests with 503.
 */
import { createClient, type Client } from "graphql-ws";
import pg from "pg";
import WebSocket from "ws";
import { createTenant, createUser, TEST_JWT_SECRET, type TestTenant, type TestUser } from "../../helpers/fixtures.ts";
import { freePort, spawnEntryPoint, waitForReady, type EntryPointProcess } from "../../helpers/process.ts";
import { startFaultySmtp, type FaultySmtp } from "../../helpers/faultySmtp.ts";
import { until } from "../../helpers/wait.ts";
import { emailJobsLeft, startWorkerProcess, type WorkerProcess } from "../../helpers/workerProcess.ts";
import { msSince, reportFigures, Tally } from "./figures.ts";
import {
  batchJobs,
  exactlyOnceFigures,
  holdUsers,
  lockWaiters,
  moveAndCancel,
  notificationBatch,
  notificationsPerPerson,
} from "./notificationBatch.ts";
import { startRestartableCluster, type RestartableCluster } from "./restartableCluster.ts";

let cluster: RestartableCluster;
let smtp: FaultySmtp;
let api: EntryPointProcess;
let worker: WorkerProcess;
let port: number;
let tenant: TestTenant;
let owner: TestUser;

beforeAll(async () => {
  cluster = await startRestartableCluster();
  smtp = await startFaultySmtp();
  tenant = await createTenant(cluster.ownerPool);
  owner = await createUser(cluster.ownerPool, tenant, "owner");
  port = await freePort();
  const database = { DATABASE_URL: cluster.urls.ownerUrl, DATABASE_AUTHENTICATOR_URL: cluster.urls.authenticatorUrl };
  api = spawnEntryPoint("server.ts", {
    ...database,
    PORT: String(port),
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: "warn",
  });
  worker = await startWorkerProcess(cluster, {
    SMTP_URL: smtp.url,
    WORKER_HEARTBEAT_SECONDS: "1",
    WORKER_STALE_SECONDS: "4",
  });
  await waitForReady(port, api.output);
}, 180_000);

afterAll(async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  for (const child of [api?.child, worker?.child]) if (child?.exitCode === null) child.kill("SIGKILL");
  await smtp?.close();
  await cluster?.destroy();
}, 60_000);

const base = () => `http://127.0.0.1:${port}`;

interface Answer {
  name: string;
  status: number;
  retryAfter: string | null;
  /** The error code (REST envelope, GraphQL errors), or /ready's reason. */
  code: string | undefined;
}

/** One round of what clients ask: each answer's status, Retry-After and error code. */
async function probe(): Promise<Answer[]> {
  const auth = { authorization: `Bearer ${owner.token}` };
  const graphql = (headers: Record<string, string>): RequestInit => ({
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", ...headers },
    body: JSON.stringify({ query: "{ searchEvents { totalCount } }" }),
  });
  const requests: Array<[string, string, RequestInit]> = [
    ["rest me", "/api/users/me", { headers: auth }],
    ["graphql signed in", "/graphql", graphql(auth)],
    ["graphql anonymous", "/graphql", graphql({})],
    ["ready", "/ready", {}],
    ["health", "/health", {}],
  ];
  return Promise.all(
    requests.map(async ([name, path, init]) => {
      const response = await fetch(`${base()}${path}`, init);
      const body = (await response.json()) as {
        error?: { code?: string };
        errors?: Array<{ extensions?: { code?: string } }>;
        reason?: string;
      };
      return {
        name,
        status: response.status,
        retryAfter: response.headers.get("retry-after"),
        code: body.error?.code ?? body.errors?.[0]?.extensions?.code ?? body.reason,
      };
    }),
  );
}

const forgotPassword = () =>
  fetch(`${base()}/api/auth/password/forgot`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ tenant: tenant.slug, email: owner.email }),
  });

const NOTIFICATIONS = "subscription { notificationAdded { notification { title } } }";
/** Every WebSocket client the test opened, disposed after it whatever happened. */
const clients: Client[] = [];

/** A signed-in graphql-ws client with one notificationAdded subscription, and what it got. */
function subscribeToNotifications(): { client: Client; titles: string[]; ended: () => string | undefined } {
  const client = createClient({
    url: `ws://127.0.0.1:${port}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${owner.token}` },
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => {},
  });
  clients.push(client);
  const titles: string[] = [];
  let ended: string | undefined;
  client.subscribe<{ notificationAdded: { notification: { title: string } } }>(
    { query: NOTIFICATIONS },
    {
      next: (value) => void titles.push(value.data?.notificationAdded.notification.title ?? "?"),
      error: (error) => void (ended = `error: ${JSON.stringify(error)}`),
      complete: () => void (ended = "complete"),
    },
  );
  return { client, titles, ended: () => ended };
}

/** Resolves once the API's subscription connection runs LISTEN on the owner's channel (see listening()). */
async function listeningForOwner(): Promise<void> {
  const statement = `LISTEN ${pg.escapeIdentifier(`user:${owner.id}:notifications`)}`;
  await until(
    async () =>
      (
        await cluster.rootPool.query(
          "select 1 from pg_stat_activity where datname = current_database() and state = 'idle' and query = $1",
          [statement],
        )
      ).rows.length > 0,
    `the API to run ${statement}`,
  );
}

const notifyOwner = (title: string) =>
  cluster.ownerPool.query(
    "insert into app_public.instant_notifications (tenant_id, recipient_id, kind, title, content) " +
      "values ($1, $2, 'test', $3, 'Live')",
    [owner.tenantId, owner.id, title],
  );

const count = (text: string, what: string) => text.split(what).length - 1;

/** The worker's heartbeat rows written at or after `since`, with the process that wrote them. */
async function beatsSince(since: Date): Promise<number[]> {
  const { rows } = await cluster.ownerPool.query<{ pid: number }>(
    "select pid from app_private.worker_pools where beat_at >= $1",
    [since],
  );
  return rows.map((row) => row.pid);
}

test("pg_ctl stop -m fast under load: 503 SERVICE_UNAVAILABLE and /ready 503 while down; after pg_ctl start " +
  "the same API and worker processes serve requests and run new jobs", async () => {
  const pids = { api: api.child.pid, worker: worker.child.pid };
  expect((await probe()).map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
  expect((await forgotPassword()).status).toBe(202);
  await until(() => smtp.accepted.length === 1, "the password-reset e-mail before the outage");
  const before = subscribeToNotifications();
  await listeningForOwner();
  await notifyOwner("Before");
  await until(() => before.titles.length === 1, "the notification before the outage");

  // Jobs in flight at the stop: a reminder waiting on a participant's row, an e-mail waiting for
  // the SMTP server's answer.
  const batch = await notificationBatch(cluster.ownerPool, 6, { change: false });
  const held = await holdUsers(cluster.ownerPool, batch.users.slice(0, 1));

  // Load from before the stop to after the recovery: every answer is tallied by status.
  const tally = new Tally();
  const unexpected: Answer[] = [];
  let loading = true;
  const load = Promise.all(
    Array.from({ length: 3 }, async () => {
      while (loading) {
        for (const answer of await probe()) {
          tally.add(answer.status);
          if (![200, 503].includes(answer.status)) unexpected.push(answer);
        }
      }
    }),
  );

  let during: Answer[] = [];
  let stoppedAt = 0;
  let startedAt = 0;
  let recoveredMs = 0;
  let mailMs = 0;
  try {
    await moveAndCancel(cluster.ownerPool, batch);
    smtp.holdAfter(smtp.accepted.length);
    expect((await forgotPassword()).status).toBe(202);
    await until(
      async () => tally.of(200) >= 50 && smtp.held === 1 && (await lockWaiters(cluster.rootPool)) >= 1,
      "the load to be under way, a reminder and an e-mail in flight",
    );
    const { rows: locked } = await cluster.ownerPool.query<{ n: number }>(
      "select count(*)::int as n from graphile_worker.jobs where locked_by is not null",
    );
    stoppedAt = performance.now();
    await cluster.stop();
    const down = performance.now();
    // The SMTP server accepts the e-mail in flight now: the worker cannot record it.
    smtp.recover();

    // Down long enough to count: the worker misses three beats, the API refuses 30 requests.
    await until(
      () => count(worker.output(), "worker heartbeat failed") >= 3 && tally.of(503) >= 30,
      "three missed heartbeats and 30 answers 503",
      30_000,
    );
    // The server is down: every request needing it is refused as unavailable, liveness answers.
    await until(async () => {
      during = await probe();
      return during.every((answer) => answer.status === (answer.name === "health" ? 200 : 503));
    }, "every probe to answer 503 (liveness 200) while PostgreSQL is down");
    for (const answer of during.filter((answer) => answer.name !== "health")) {
      expect(answer).toEqual({
        name: answer.name,
        status: 503,
        retryAfter: answer.name === "ready" ? null : "5",
        code: answer.name === "ready" ? "database unreachable" : "SERVICE_UNAVAILABLE",
      });
    }
    const refused = await forgotPassword();
    expect([refused.status, ((await refused.json()) as { error: { code: string } }).error.code]).toEqual([
      503,
      "SERVICE_UNAVAILABLE",
    ]);
    const downMs = msSince(down);
    // The live subscription lost its LISTEN connection: it is told so (and may subscribe again).
    await until(() => before.ended() !== undefined, "the subscription from before the outage to end");
    expect(before.ended()).toMatch(/^error/);

    await cluster.start();
    startedAt = performance.now();
    const restarted = new Date();
    await until(
      async () => (await probe()).every((answer) => answer.status === 200),
      "every probe to succeed again after the restart",
    );
    recoveredMs = msSince(startedAt);

    // A job enqueued after the restart runs: the API enqueues it, the worker's mail runner sends it.
    const mailsBefore = smtp.accepted.length;
    expect((await forgotPassword()).status).toBe(202);
    await until(() => smtp.accepted.length > mailsBefore, "the password-reset e-mail after the restart", 30_000);
    mailMs = msSince(startedAt);
    expect(smtp.accepted.at(-1)!.to).toEqual([owner.email]);
    // The jobs in flight at the stop ran again: each participant notified once, no e-mail job left.
    await until(
      async () => (await batchJobs(cluster.ownerPool, batch)) === 0 && (await emailJobsLeft(cluster)) === 0,
      "the jobs in flight at the stop to complete",
      60_000,
    );
    const inFlightMs = msSince(startedAt);
    const notifications = exactlyOnceFigures(await notificationsPerPerson(cluster.ownerPool, batch));
    // And a domain event: a new tenant's modules are set up by the jobs runner.
    const created = await cluster.ownerPool.query<{ id: string }>(
      "insert into app_public.tenants (slug, name) values ('after-restart', 'After restart') returning id",
    );
    const modules = async () =>
      (
        await cluster.ownerPool.query("select 1 from app_public.tenant_modules where tenant_id = $1", [
          created.rows[0]!.id,
        ])
      ).rowCount ?? 0;
    await until(async () => (await modules()) > 0, "the new tenant's domain event to be delivered", 30_000);
    // A subscription made now receives its notification: the API listens again.
    const after = subscribeToNotifications();
    await listeningForOwner();
    await notifyOwner("After");
    await until(() => after.titles.length === 1, "the notification after the restart");
    expect([before.titles, after.titles]).toEqual([["Before"], ["After"]]);
    // The worker beats again, from the same process.
    await until(async () => (await beatsSince(restarted)).length > 0, "the worker's heartbeat after the restart");
    expect(new Set(await beatsSince(restarted))).toEqual(new Set([pids.worker]));

    loading = false;
    await load;
    const apiLog = api.output();
    const workerLog = worker.output();
    reportFigures("databaseRestart", {
      requests: tally.total,
      ok: tally.of(200),
      unavailable503: tally.of(503),
      otherErrors: tally.other(200, 503).reduce((sum, [, n]) => sum + n, 0),
      jobsLockedAtStop: locked[0]!.n,
      notificationsOfBatch: notifications.notifications,
      notificationDuplicates: notifications.duplicates,
      notificationsLost: notifications.lost,
      mails: smtp.accepted.length,
      msStopToStart: Math.round(startedAt - stoppedAt),
      msDown: downMs,
      msStartToRequestsOk: recoveredMs,
      msStartToMailDelivered: mailMs,
      msStartToJobsInFlightDone: inFlightMs,
      apiErrorLines: errorLines(apiLog).length,
      workerErrorLines: errorLines(workerLog).length,
    });
    expect(unexpected).toEqual([]);
    expect(notifications).toEqual({ notifications: 12, duplicates: 0, lost: 0 });
    // Four password-reset e-mails asked for; the one accepted during the outage came again.
    expect(smtp.accepted.map((email) => email.to.join())).toEqual(Array(4).fill(owner.email));
    // The same processes throughout, alive, and nothing uncaught or fatal in their logs.
    expect([api.child.pid, api.child.exitCode, worker.child.pid, worker.child.exitCode]).toEqual([
      pids.api,
      null,
      pids.worker,
      null,
    ]);
    for (const log of [apiLog, workerLog]) {
      expect(log).not.toMatch(/uncaught|unhandled/i);
      expect(logLines(log).filter((line) => line.level >= 60)).toEqual([]);
    }
  } finally {
    loading = false;
    await load;
    await held.release();
  }
}, 180_000);

interface LogLine {
  level: number;
  msg: string;
}

/** The JSON log lines of a process's output (pino). */
function logLines(output: string): LogLine[] {
  return output
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as LogLine);
}

const errorLines = (output: string) => logLines(output).filter((line) => line.level >= 50);
