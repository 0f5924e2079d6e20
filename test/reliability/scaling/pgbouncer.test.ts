/**
 * Scale-out as docs/scaling.md deploys it: two API processes (`npm run server`) and two worker
 * processes (`npm run worker`), every connection through one PgBouncer — the APIs' queries through
 * its transaction-mode pool (DATABASE_PREPARED_STATEMENTS=false), their LISTEN clients
 * (DATABASE_LISTEN_URL) and the workers through its session-mode pool. Under a mixed load — GraphQL
 * queries and mutations of several users, REST bot calls whose payments publish a domain event,
 * chat messages, events cancelled (e-mails to every participant, to a real SMTP sink) — it proves:
 *
 * - no answer is an error: no 5xx, no GraphQL error, every REST status the expected one;
 * - every job runs exactly once across the two workers (none failed, the queue empties) and each
 *   participant gets one e-mail per cancelled event;
 * - cron runs once per tick across the two workers (every minute task, every tick);
 * - a subscriber connected to API #2 receives every chat message written through API #1, once.
 *
 * It prints its figures (requests, jobs, e-mails, PgBouncer's transactions, duration). Without
 * pgbouncer it fails saying how to install it, unless SKIP_PGBOUNCER=1.
 */
import { request as httpRequest } from "node:http";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import { createTenant, createUser, TEST_JWT_SECRET, type TestUser } from "../../helpers/fixtures.ts";
import {
  findPgBouncer,
  POOL_DATABASES,
  type PgBouncer,
  type PoolMode,
  startPgBouncer,
} from "../../helpers/pgbouncer.ts";
import { freePort, waitForReady } from "../../helpers/process.ts";
import { type SmtpCapture, startSmtpCapture } from "../../helpers/smtp.ts";
import { until } from "../../helpers/wait.ts";
import { CREATE_EVENT, inMinutes, JOIN, REJECT } from "../../events/helpers.ts";
import { CREATE_GROUP, SEND, SUBSCRIBE } from "../../messaging/helpers.ts";
import {
  jobOutcomes,
  type LoggedJob,
  loggedJobs,
  recordJobs,
  spawnTessera,
  type TesseraProcess,
  workerConnected,
} from "./processes.ts";

const binary = findPgBouncer();
const skipped = !binary && process.env.SKIP_PGBOUNCER === "1";
if (skipped)
  process.stdout.write("pgbouncer.test.ts: no pgbouncer and SKIP_PGBOUNCER=1: the scale-out test is skipped\n");

/** Rounds of load at least; the load goes on until a cron tick has run on the two workers. */
const MIN_ROUNDS = 8;
const MEMBERS = 6;
const CUSTOMERS = 3;
/** Minute crontab lines (the platform's and the modules'): one job per tick each. */
const MINUTE_CRONS = ["worker_heartbeat", "poll_payments", "broadcast_schedule"];

// biome-ignore lint/suspicious/noExplicitAny: answers are read field by field, as JSON
type Json = Record<string, any>;

interface Api {
  name: string;
  url: string;
  process: TesseraProcess;
}

/** What the load did and every answer that was not the expected one. */
const load = { graphql: 0, rest: 0, problems: [] as string[] };

interface Init {
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
}

/**
 * One request on a connection of its own. Not fetch: it keeps idle connections open for the next
 * request, and when the test process is too busy to see the server close one (its keep-alive
 * timeout, 5 s; four processes booting on two cores), the next request goes out on it and fails
 * with ECONNRESET (one run in four, on the first request after the boot): the client's race, not an
 * answer of the server's.
 */
function send(url: string, init: Init): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: init.method, headers: init.headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode!, text: Buffer.concat(chunks).toString() }));
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end(init.body);
  });
}

async function call(api: Api, what: string, path: string, init: Init, expected: number[]) {
  try {
    const { status, text } = await send(`${api.url}${path}`, init);
    const body = text ? (JSON.parse(text) as Json) : {};
    if (!expected.includes(status) || body.errors) {
      load.problems.push(`${api.name} ${what}: ${status} ${text.slice(0, 400)}`);
      return undefined;
    }
    return body;
  } catch (error) {
    load.problems.push(`${api.name} ${what}: ${(error as Error).message}`);
    return undefined;
  }
}

async function graphql(api: Api, user: TestUser, query: string, variables: Json = {}): Promise<Json | undefined> {
  load.graphql++;
  const body = await call(
    api,
    query.replace(/\s+/g, " ").slice(0, 60),
    "/graphql",
    {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json",
        authorization: `Bearer ${user.token}`,
      },
      body: JSON.stringify({ query, variables }),
    },
    [200],
  );
  return body?.data as Json | undefined;
}

async function rest(
  api: Api,
  method: "GET" | "POST",
  path: string,
  headers: Record<string, string>,
  expected: number[],
  body?: Json,
): Promise<Json | undefined> {
  load.rest++;
  return call(
    api,
    `${method} ${path}`,
    path,
    {
      method,
      headers: { ...headers, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    },
    expected,
  );
}

/** A setup step's answer; setup stops at the first problem. */
function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error(`setup failed:\n${load.problems.join("\n")}`);
  return value;
}

let db: TestDatabase;
let bouncer: PgBouncer | undefined;
let smtp: SmtpCapture;
const apis: Api[] = [];
const workers: TesseraProcess[] = [];
let subscriber: Client | undefined;
let workersUpAt: Date;

(skipped ? describe.skip : describe)("two APIs and two workers through PgBouncer", () => {
  beforeAll(async () => {
    if (!binary)
      throw new Error(
        "pgbouncer is not installed (looked in /usr/sbin, /usr/bin and the PATH): apt-get install -y pgbouncer, " +
          "or set SKIP_PGBOUNCER=1 to skip the scale-out test",
      );
    db = await createTestDatabase();
    await recordJobs(db);
    smtp = await startSmtpCapture();
    // Fewer server connections than the APIs have clients: transaction pooling shares them.
    bouncer = await startPgBouncer(db, { binary, poolSize: { transaction: 5, session: 30 } });
    const common = { APP_ENV: "test", JWT_SECRET: TEST_JWT_SECRET };
    for (const name of ["api-1", "api-2"]) {
      const port = await freePort();
      const env = {
        ...common,
        PORT: String(port),
        LOG_LEVEL: "warn",
        DATABASE_URL: bouncer.url("transaction", "owner"),
        DATABASE_AUTHENTICATOR_URL: bouncer.url("transaction", "authenticator"),
        DATABASE_LISTEN_URL: bouncer.url("session", "authenticator"),
        DATABASE_PREPARED_STATEMENTS: "false",
        // The load is as fast as the machine allows; the per-key limit (600 a minute) is not what this measures.
        BOT_API_RATE_LIMIT: "1000000",
      };
      apis.push({ name, url: `http://127.0.0.1:${port}`, process: spawnTessera(name, "server.ts", env) });
    }
    for (const name of ["worker-1", "worker-2"]) {
      const env = {
        ...common,
        LOG_LEVEL: "info",
        DATABASE_URL: bouncer.url("session", "owner"),
        DATABASE_AUTHENTICATOR_URL: bouncer.url("session", "authenticator"),
        SMTP_URL: smtp.url,
        WORKER_CONCURRENCY: "4",
      };
      workers.push(spawnTessera(name, "worker.ts", env));
    }
    await Promise.all([
      ...apis.map((api) => waitForReady(Number(new URL(api.url).port), () => api.process.output())),
      ...workers.map(workerConnected),
    ]);
    workersUpAt = new Date();
  }, 180_000);

  afterAll(async () => {
    await subscriber?.dispose();
    await Promise.all([...apis.map((api) => api.process), ...workers].map((p) => p.stop()));
    await bouncer?.stop();
    await smtp?.close();
    await db?.drop();
  });

  test("mixed load: no error, every job and e-mail once, cron once a tick, subscriptions across APIs", async () => {
    const started = Date.now();
    const [api1, api2] = apis as [Api, Api];
    const tenant = await createTenant(db.ownerPool);
    const manager = await createUser(db.ownerPool, tenant, "manager");
    const admin = await createUser(db.ownerPool, tenant, "admin");
    const members: TestUser[] = [];
    for (let i = 0; i < MEMBERS; i++) members.push(await createUser(db.ownerPool, tenant, "member"));

    // The store: an API key and a bot (GraphQL through API #1), a product, funded customers (REST
    // and GraphQL through API #2).
    const created = must(
      await graphql(
        api1,
        admin,
        `mutation { createApiKey(input: { name: "scale" }) { created { secret } }
                    createBot(input: { name: "Scale bot" }) { bot { rowId } } }`,
      ),
    );
    const botHeaders = { "X-API-KEY": created.createApiKey.created.secret, "X-BOT-ID": created.createBot.bot.rowId };
    const product = must(
      await graphql(
        api1,
        admin,
        `mutation { createProduct(input: { product: { name: "Ticket", price: "1.00", stock: null } }) {
           product { rowId } } }`,
      ),
    ).createProduct.product.rowId as string;
    for (let c = 0; c < CUSTOMERS; c++) {
      const customer = must(
        await rest(api2, "POST", "/api/bot/customers", botHeaders, [201], { telegramId: 7000 + c, firstName: "C" }),
      );
      must(
        await graphql(
          api2,
          admin,
          `mutation($c: UUID!) { adjustCustomerBalance(input: { customerId: $c, amount: "1000.00", reason: "top-up" }) {
             transaction { rowId } } }`,
          { c: customer.id },
        ),
      );
    }

    // A group chat of the members; the first one subscribes to it on API #2.
    const chatId = must(
      await graphql(api1, manager, CREATE_GROUP, { title: "Scale", memberIds: members.map((m) => m.id) }),
    ).createGroupChat.chat.rowId as string;
    const received: string[] = [];
    const subscriptionErrors: unknown[] = [];
    subscriber = createClient({
      url: `${api2.url.replace("http", "ws")}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${members[0]!.token}` },
      retryAttempts: 0,
      lazy: false,
    });
    subscriber.subscribe(
      { query: SUBSCRIBE, variables: { chatId } },
      {
        next: (value) => {
          const event = (value.data as Json | undefined)?.chatMessageAdded;
          if (event?.event === "created") received.push(event.message.rowId);
          if (value.errors) subscriptionErrors.push(value.errors);
        },
        error: (error) => subscriptionErrors.push(error),
        complete: () => subscriptionErrors.push("completed"),
      },
    );
    // API #2's LISTEN connection (through the session pool) has run LISTEN for the tenant's chats.
    await until(async () => {
      const { rows } = await db.rootPool.query(
        "select 1 from pg_stat_activity where datname = current_database() and state = 'idle' and query = $1",
        [`LISTEN "tenant:${tenant.id}:chats"`],
      );
      return rows.length > 0;
    }, "API #2 to LISTEN for the chat");

    const sent: string[] = [];
    const events: Array<{ id: string; name: string }> = [];
    // The most client and server connections each pool had at once (PgBouncer's SHOW POOLS, each round).
    const peak: Record<PoolMode, { clients: number; servers: number }> = {
      transaction: { clients: 0, servers: 0 },
      session: { clients: 0, servers: 0 },
    };
    const cronTicksRun = async () =>
      (await loggedJobs(db)).filter(
        (job) => job.task === "worker_heartbeat" && job.cronTs && new Date(job.cronTs) > workersUpAt,
      ).length;

    for (let round = 0; round < MIN_ROUNDS || (await cronTicksRun()) === 0; round++) {
      if (Date.now() - started > 150_000) throw new Error(`no cron tick ran within 150 s\n${workers[0]!.output()}`);
      const on = (i: number) => apis[(round + i) % 2]!;
      const name = `Scale meetup ${round}`;
      const event = await graphql(on(0), manager, CREATE_EVENT, {
        input: { name, startsAt: inMinutes(7 * 24 * 60), endsAt: inMinutes(7 * 24 * 60 + 120) },
      });
      const eventId = event?.createEvent.event.rowId as string | undefined;
      if (eventId) events.push({ id: eventId, name });
      const previous = events.at(eventId ? -2 : -1);
      const customer = 7000 + (round % CUSTOMERS);
      await Promise.all([
        ...members.map(async (member, i) => {
          if (eventId) await graphql(on(i), member, JOIN, { id: eventId });
        }),
        ...members.map((member, i) =>
          graphql(on(i + 1), member, "{ currentUser { email } events(first: 10) { totalCount nodes { name } } }"),
        ),
        (async () => {
          await rest(on(1), "GET", "/api/bot/catalog/products", botHeaders, [200]);
          const order = await rest(on(1), "POST", "/api/bot/orders", botHeaders, [201], {
            telegramId: customer,
            items: [{ productId: product, quantity: 1 }],
          });
          // Paid from the balance: order_paid, a domain event, enqueues its job in the same transaction.
          if (order)
            await rest(on(0), "POST", `/api/bot/orders/${order.id}/pay`, botHeaders, [200], { method: "balance" });
          await rest(on(1), "GET", `/api/bot/customers/${customer}/balance`, botHeaders, [200]);
        })(),
        // Chat messages written through API #1 only: the subscriber is on API #2.
        (async () => {
          const message = await graphql(api1, members[round % MEMBERS]!, SEND, { chatId, body: `GraphQL ${round}` });
          if (message) sent.push(message.sendMessage.message.rowId);
        })(),
        (async () => {
          const author = members[(round + 1) % MEMBERS]!;
          const message = await rest(
            api1,
            "POST",
            `/api/chats/${chatId}/messages`,
            { authorization: `Bearer ${author.token}` },
            [201],
            { body: `REST ${round}` },
          );
          if (message) sent.push(message.id);
        })(),
        // The event of the round before is cancelled: its participants are e-mailed meanwhile.
        previous && previous.id !== eventId
          ? graphql(api1, manager, REJECT, { id: previous.id, reason: "scale test" })
          : undefined,
        (async () => {
          const pools = await bouncer!.admin("SHOW POOLS");
          for (const mode of ["transaction", "session"] as const) {
            const of = pools.filter((pool) => pool.database === POOL_DATABASES[mode]);
            const sum = (...keys: string[]) =>
              of.reduce((total, pool) => total + keys.reduce((n, key) => n + Number(pool[key] ?? 0), 0), 0);
            peak[mode].clients = Math.max(peak[mode].clients, sum("cl_active", "cl_waiting"));
            peak[mode].servers = Math.max(peak[mode].servers, sum("sv_active", "sv_idle", "sv_used"));
          }
        })(),
      ]);
    }
    const last = events.at(-1);
    if (last) await graphql(api1, manager, REJECT, { id: last.id, reason: "scale test" });
    expect(load.problems).toEqual([]);

    // Every participant of every event gets its cancellation once.
    const expectedMails = events.flatMap((event) => members.map((m) => `${m.email} Cancelled: ${event.name}`)).sort();
    await until(() => smtp.messages.length >= expectedMails.length, `${expectedMails.length} e-mails`, 60_000);
    // Every message reaches the subscriber on the other API.
    await until(() => sent.every((id) => received.includes(id)), `${sent.length} chat messages on API #2`);

    // The queue empties, and every job it received by then has been completed.
    let cutoff = new Date(0);
    await until(
      async () => {
        const { rows } = await db.rootPool.query<{ at: Date; queued: number }>(
          "select clock_timestamp() as at, (select count(*)::int from graphile_worker.jobs) as queued",
        );
        const { completed } = jobOutcomes(workers);
        const open = (await loggedJobs(db)).filter((job) => job.task !== "event_reminder" && !completed.has(job.id));
        cutoff = rows[0]!.at;
        return rows[0]!.queued === 0 && open.length === 0;
      },
      "the queue to empty",
      60_000,
    );
    const drainedAt = Date.now();
    // Until now the subscription never failed nor ended; disposing of its client ends it.
    const subscriptionProblems = [...subscriptionErrors];
    await subscriber.dispose();
    subscriber = undefined;
    // SIGTERM: each process drains and exits 0; no worker takes a job afterwards.
    const exits = await Promise.all([...apis.map((api) => api.process), ...workers].map((p) => p.stop()));
    expect(exits).toEqual([0, 0, 0, 0]);

    const jobs = await loggedJobs(db);
    const { completed, failed } = jobOutcomes(workers);
    expect(failed).toEqual([]);
    // Exactly once: one "Completed" line per job, across both workers. Reminders are removed by the
    // cancellations, never run; a cron job of a tick after the queue emptied runs at most once.
    const runs = (job: LoggedJob) => completed.get(job.id)?.length ?? 0;
    const byCutoff = jobs.filter((job) => job.insertedAt <= cutoff);
    expect(byCutoff.filter((job) => job.task !== "event_reminder" && runs(job) !== 1)).toEqual([]);
    expect(jobs.filter((job) => job.task === "event_reminder" && runs(job) !== 0)).toEqual([]);
    expect(jobs.filter((job) => runs(job) > 1)).toEqual([]);
    expect([...completed.keys()].filter((id) => !jobs.some((job) => job.id === id))).toEqual([]);
    // Both workers took jobs.
    for (const worker of workers)
      expect([...completed.values()].filter((names) => names.includes(worker.name)).length).toBeGreaterThan(0);

    // Cron: each minute task once per tick, for every tick the two workers were up for.
    const ticks = [...new Set(jobs.filter((job) => job.cronTs).map((job) => job.cronTs!))].sort();
    const perTick = ticks.map((ts) => ({
      ts,
      tasks: jobs
        .filter((job) => job.cronTs === ts && MINUTE_CRONS.includes(job.task))
        .map((job) => job.task)
        .sort(),
    }));
    expect(perTick).toEqual(ticks.map((ts) => ({ ts, tasks: [...MINUTE_CRONS].sort() })));
    const minute = 60_000;
    const firstTick = Math.ceil(workersUpAt.getTime() / minute) * minute;
    const expectedTicks: string[] = [];
    // The first tick after the workers were up (the load waited for it), and every tick 20 s or more
    // before the queue drained (a failure bound for a late cron timer).
    for (let t = firstTick; t === firstTick || t <= cutoff.getTime() - 20_000; t += minute)
      expectedTicks.push(new Date(t).toISOString());
    expect(expectedTicks.filter((ts) => !ticks.includes(ts))).toEqual([]);
    const cronRuns = jobs.filter((job) => job.cronTs).map((job) => `${job.task} ${job.cronTs}`);
    expect(cronRuns.filter((run, index) => cronRuns.indexOf(run) !== index)).toEqual([]);

    const mails = smtp.messages.flatMap((message) => message.to.map((to) => `${to} ${message.subject}`)).sort();
    expect(mails).toEqual(expectedMails);
    expect(sent.filter((id) => received.filter((r) => r === id).length !== 1)).toEqual([]);
    expect(subscriptionProblems).toEqual([]);

    const stats = await bouncer!.admin("SHOW STATS");
    const of = (database: string, key: string) => Number(stats.find((row) => row.database === database)?.[key] ?? 0);
    const tasks = new Map<string, number>();
    for (const job of jobs) if (runs(job) === 1) tasks.set(job.task, (tasks.get(job.task) ?? 0) + 1);
    process.stdout.write(
      [
        "",
        "Scale-out through PgBouncer (2 APIs, 2 workers):",
        `  load: ${events.length} rounds, ${load.graphql} GraphQL requests, ${load.rest} REST calls, ` +
          `${load.problems.length} errors`,
        `  jobs: ${[...tasks.values()].reduce((a, b) => a + b, 0)} completed exactly once ` +
          `(${[...tasks].map(([task, n]) => `${task} ${n}`).join(", ")}); ` +
          workers
            .map((w) => `${w.name} ${[...completed.values()].filter((n) => n.includes(w.name)).length}`)
            .join(", "),
        `  e-mails: ${mails.length} to ${new Set(smtp.messages.flatMap((m) => m.to)).size} recipients; ` +
          `chat messages: ${sent.length} sent through API #1, ${received.length} received on API #2`,
        `  cron ticks: ${ticks.length} (${MINUTE_CRONS.length} minute tasks each, once)`,
        ...(["transaction", "session"] as const).map(
          (mode) =>
            `  pgbouncer ${mode} pool: ${of(POOL_DATABASES[mode], "total_xact_count")} transactions, ` +
            `${of(POOL_DATABASES[mode], "total_query_count")} queries; at most ${peak[mode].clients} clients ` +
            `on ${peak[mode].servers} server connections`,
        ),
        `  duration: ${((drainedAt - started) / 1000).toFixed(1)} s of load and drain`,
        "",
      ].join("\n"),
    );
  }, 300_000);
});
