/**
 * Notification fan-out: N WebSocket subscribers to `notificationAdded`, all participants of one
 * event; a manager cancels it. The path is the real one: mutation → trigger → job → batched inserts
 * → NOTIFY → each subscription answers its client. Three processes, so that neither side's work
 * skews the other's clock: this one (server, worker, orchestration), one with the N clients, and
 * a probe that LISTENs on the N channels itself and stamps each NOTIFY as it arrives. Stamps are
 * process.hrtime (the machine's monotonic clock, shared by the processes).
 *
 * Per size, two deliveries in the same run: `payload` (the NOTIFY carries the row; what the
 * trigger does) and `read-back` (the trigger's former body, NOTIFY with the id alone, so every
 * subscription reads its row under RLS). Reported: per receipt, NOTIFY → client p50/p99/max; and
 * from the mutation, the median subscriber's receipt and the last one.
 * Writes bench/results/notification-fanout.json. With FANOUT_PROFILE=1, each `payload` round of the
 * largest size is also CPU-profiled in this process (server and worker) from the mutation to the last
 * receipt: the busiest functions are printed and the profile of the last such round is written to
 * bench/results/fanout.cpuprofile. FANOUT_REMOVE_PER_JOB=1 removes the cancelled event's reminder jobs
 * one graphile_worker.remove_job at a time, as before migration 000025 (restored at the end).
 * Usage: node bench/notification-fanout.ts [sizes=1,100,1000] [rounds=1]
 */
import { type ChildProcess, fork } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Session } from "node:inspector/promises";
import { cpuWindow } from "./cpu.ts";
import { type CpuProfile, selfByBucket, topFunctions } from "./flamegraph.ts";

/** Sockets per client address: under the server's cap of 50 per address (websocketLimits.ts). */
const SOCKETS_PER_ADDRESS = 40;
const SUBSCRIPTION = "subscription { notificationAdded { notification { rowId kind title } } }";
const RECEIPT_TIMEOUT_MS = 60_000;
/** How long a process waits for the other's next message (a round's receipts come within RECEIPT_TIMEOUT_MS). */
const MESSAGE_DEADLINE_MS = 3 * RECEIPT_TIMEOUT_MS;
const NO_ROW = "00000000-0000-0000-0000-000000000000";
const WARM_UP = `select pg_notify('user:' || u || ':notifications', json_build_object('id', $3::uuid, 'row',
  json_build_object('id', $3::uuid, 'tenant_id', $2::uuid, 'recipient_id', u,
                    'kind', 'warm_up', 'title', 'Warm-up'))::text)
  from unnest($1::uuid[]) u`;

type Receipt = [rowId: string, atNs: string];
type Message =
  | { kind: "ready" }
  | { kind: "warm" }
  | { kind: "receipts"; receipts: Receipt[]; errors: number }
  | { kind: "stamps"; stamps: Receipt[] };

const role = process.argv[2];
if (role === "--clients") await runClients();
else if (role === "--probe") await runProbe();
else {
  // A bench process that ends early says so, whatever ended it (its children then see it go).
  process.on("exit", (code) => {
    if (code !== 0) process.stderr.write(`bench: exiting with code ${code}\n`);
  });
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const)
    process.once(signal, () => {
      process.stderr.write(`bench: ${signal}\n`);
      process.exit(1);
    });
  await runBench();
}

/** The clients' process: opens the sockets it is told, subscribes, reports each receipt. */
async function runClients(): Promise<void> {
  const [{ createClient }, { default: WebSocket }] = await Promise.all([import("graphql-ws"), import("ws")]);
  const { port, tokens, block } = await nextMessage<{ port: number; tokens: string[]; block: number }>();
  const receipts: Receipt[] = [];
  const warm = new Set<number>();
  let errors = 0;
  let done: () => void = () => {};
  const all = new Promise<void>((resolve) => (done = resolve));
  const fromAddress = (address: string) =>
    class extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { localAddress: address });
      }
    };
  // How sockets ended and the first socket error, for the report if they end before the round.
  const closes = new Map<string, number>();
  let firstError: string | undefined;
  const clients = tokens.map((token, i) =>
    createClient({
      url: `ws://127.0.0.1:${port}/graphql`,
      webSocketImpl: fromAddress(`127.${block}.0.${2 + Math.floor(i / SOCKETS_PER_ADDRESS)}`),
      connectionParams: { authorization: `Bearer ${token}` },
      lazy: false,
      retryAttempts: 0,
      // Counted in `closes` below rather than dumped, one CloseEvent per socket, by graphql-ws.
      onNonLazyError: () => {},
      on: {
        closed: (event) => {
          const { code, reason } = event as { code?: number; reason?: string };
          const key = `${code ?? "?"}${reason ? ` ${reason}` : ""}`;
          closes.set(key, (closes.get(key) ?? 0) + 1);
        },
        error: (error) => {
          firstError ??= error instanceof Error ? error.message : String((error as { message?: unknown })?.message);
        },
      },
    }),
  );
  for (const [i, client] of clients.entries()) {
    client.subscribe<{ notificationAdded: { notification: { rowId: string } | null } }>(
      { query: SUBSCRIPTION },
      {
        next: (value) => {
          // A warm-up NOTIFY (its row has an id no row has): proof that this LISTEN is live.
          if (value.data?.notificationAdded.notification?.rowId === NO_ROW) {
            if (warm.size < tokens.length && warm.add(i).size === tokens.length) void send({ kind: "warm" });
            return;
          }
          receipts.push([value.data?.notificationAdded.notification?.rowId ?? "?", String(process.hrtime.bigint())]);
          if (receipts.length + errors === tokens.length) done();
        },
        error: () => {
          if (receipts.length + ++errors === tokens.length) done();
        },
        complete: () => {},
      },
    );
  }
  // Each socket is up once a query over it has been answered (its subscription came first).
  const started = performance.now();
  try {
    await Promise.all(
      clients.map(
        (client) =>
          new Promise((resolve, reject) =>
            client.subscribe({ query: "{ __typename }" }, { next: resolve, error: reject, complete: () => {} }),
          ),
      ),
    );
  } catch {
    // Said plainly (close codes and counts, the first socket error), not as a CloseEvent's dump.
    const ended = [...closes].map(([key, count]) => `${count} × ${key}`).join(", ");
    process.stderr.write(
      `clients: a socket ended before it was up, ${Math.round(performance.now() - started)} ms after the first ` +
        `connect; closes so far: ${ended || "none"}; first socket error: ${firstError ?? "none"}\n`,
    );
    process.exit(1);
  }
  await send({ kind: "ready" });
  const timer = setTimeout(done, RECEIPT_TIMEOUT_MS);
  await all;
  clearTimeout(timer);
  await send({ kind: "receipts", receipts, errors });
  await nextMessage();
  await Promise.all(clients.map((client) => client.dispose()));
  process.exit(0);
}

/** The probe's process: LISTENs on the channels it is told and stamps each NOTIFY on arrival. */
async function runProbe(): Promise<void> {
  const { default: pg } = await import("pg");
  const { url, channels } = await nextMessage<{ url: string; channels: string[] }>();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const stamps: Receipt[] = [];
  client.on("notification", (message) => {
    const at = String(process.hrtime.bigint());
    const { id } = JSON.parse(message.payload ?? "{}") as { id: string };
    // The warm-up's NOTIFYs (a cold first run sends thousands) would only swell the message.
    if (id !== NO_ROW) stamps.push([id, at]);
  });
  await client.query(channels.map((channel) => `LISTEN ${client.escapeIdentifier(channel)};`).join("\n"));
  await send({ kind: "ready" });
  await nextMessage();
  await send({ kind: "stamps", stamps });
  await client.end();
  process.exit(0);
}

/**
 * Sends a message and resolves once it is written: `process.exit` right after a send drops a
 * message still queued (a first run's stamps, swollen by the warm-up, were lost so, and the bench
 * saw its probe end with code 0 before the message).
 */
function send(message: Message): Promise<void> {
  // After the bench process is gone, its disconnect (see nextMessage) says so; a send would throw.
  if (!process.connected || !process.send) return Promise.resolve();
  return new Promise((resolve) => process.send!(message, undefined, {}, () => resolve()));
}

/** The next IPC message from the other process; fails when it disconnects first or after MESSAGE_DEADLINE_MS. */
function nextMessage<T = unknown>(from: NodeJS.Process | ChildProcess = process): Promise<T> {
  return new Promise((resolve, reject) => {
    const stop = () => {
      clearTimeout(timer);
      from.off("message", onMessage);
      from.off("disconnect", onDisconnect);
    };
    const onMessage = (message: unknown) => {
      stop();
      resolve(message as T);
    };
    const onDisconnect = () => {
      stop();
      // Which side went first: a child that disconnected says how it ended (its "exit" event comes
      // after the disconnect, so it is awaited here, not left to a listener that a crash would skip).
      void (from === process ? Promise.resolve("the bench process") : endOf(from as ChildProcess)).then((other) =>
        reject(
          new Error(`${role?.startsWith("--") ? role.slice(2) : "bench"}: ${other} disconnected before its message`),
        ),
      );
    };
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no message from the other process within ${MESSAGE_DEADLINE_MS} ms`));
    }, MESSAGE_DEADLINE_MS);
    from.on("message", onMessage);
    from.on("disconnect", onDisconnect);
  });
}

/** How a child that disconnected ended, waiting up to two seconds for its exit. */
function endOf(child: ChildProcess): Promise<string> {
  const name = `the ${child.spawnargs.at(-1)?.replace(/^--/, "")} process`;
  const how = () => `${name} (ended with ${child.signalCode ?? `code ${child.exitCode}`})`;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(how());
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(`${name} (still running two seconds later)`), 2000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(how());
    });
  });
}

async function runBench(): Promise<void> {
  const { MODULES } = await import("../src/modules/index.ts");
  const { migrateDatabase } = await import("../src/platform/db/migrate.ts");
  const { createTesseraServer } = await import("../src/platform/server.ts");
  const { startWorker } = await import("../src/platform/worker/runner.ts");
  const { benchSession, benchTenant, benchUser, openBench } = await import("./harness.ts");
  const { projectRoot } = await import("../src/platform/paths.ts");

  const sizes = (process.argv[2] ?? "1,100,1000").split(",").map(Number);
  const rounds = Number(process.argv[3] ?? 1);
  const bench = await openBench();
  const { config, logger, database, owner } = bench;
  // The notifications module's migration in progress, if any (openBench applies committed ones).
  await migrateDatabase(database.urls, logger, { includeCurrent: true });
  const server = await createTesseraServer({
    modules: MODULES,
    config: { ...config, isProduction: true },
    database: database.urls,
    logger,
  });
  await new Promise<void>((resolve) => server.httpServer.listen(0, "127.0.0.1", resolve));
  const port = (server.httpServer.address() as { port: number }).port;
  const worker = await startWorker({
    modules: MODULES,
    connectionString: database.urls.ownerUrl,
    concurrency: 4,
    logger,
    mail: config.mail,
    config,
  });
  const trigger = "app_private.tg_instant_notifications__notify()";
  /** A function's `create or replace` text, to put it back after a run that replaced it. */
  const definitionOf = async (signature: string) =>
    (await owner.query<{ def: string }>("select pg_get_functiondef($1::regprocedure) as def", [signature])).rows[0]!
      .def;
  const payloadTrigger = await definitionOf(trigger);
  const readBackTrigger = `create or replace function ${trigger} returns trigger
    language plpgsql volatile set search_path to pg_catalog, public, pg_temp as $$
    begin
      perform pg_notify('user:' || new.recipient_id::text || ':notifications', json_build_object('id', new.id)::text);
      return null;
    end; $$`;

  interface Audience {
    tenantId: string;
    manager: { id: string; token: string };
    members: Array<{ id: string; token: string }>;
  }

  async function userWithToken(tenantId: string, username: string, role: string) {
    const id = await benchUser(bench, tenantId, username, role);
    return { id, token: (await benchSession(bench, id, tenantId, role)).token };
  }

  async function audience(size: number): Promise<Audience> {
    const tenantId = await benchTenant(bench, `fanout-${size}-${Date.now()}`);
    // In-app notifications only: the bench measures the live path, not SMTP.
    await owner.query(
      `update app_public.tenant_modules set settings = '{"emailNotifications": false}'
       where tenant_id = $1 and module = 'events'`,
      [tenantId],
    );
    const manager = await userWithToken(tenantId, `manager-${size}`, "manager");
    const members = [];
    for (let i = 0; i < size; i++) members.push(await userWithToken(tenantId, `m${size}-${i}`, "member"));
    return { tenantId, manager, members };
  }

  function child(mode: string): ChildProcess {
    const stdio = ["ignore", "inherit", "inherit", "ipc"] as const;
    const forked = fork(fileURLToPath(import.meta.url), [mode], { execArgv: [], stdio: [...stdio] });
    return forked;
  }

  async function reply<T extends Message["kind"]>(from: ChildProcess, kind: T) {
    const message = await nextMessage<Message>(from);
    if (message.kind !== kind) throw new Error(`expected ${kind}, got ${JSON.stringify(message).slice(0, 300)}`);
    return message as Extract<Message, { kind: T }>;
  }

  interface Result {
    size: number;
    delivery: string;
    received: number;
    errors: number;
    lastMs: number;
    /** The median subscriber's receipt, from the mutation's start (lastMs is the last one's). */
    receiptP50Ms: number;
    firstNotifyMs: number;
    /** From the mutation to its HTTP response, and to the start of the cancellation job. */
    responseMs: number;
    jobStartMs: number;
    p50: number;
    p99: number;
    max: number;
    /** CPU time (ms) from the mutation to the last receipt, per process; `server` runs the worker too. */
    cpuMs: Record<string, number>;
  }

  /**
   * A subscription is answered before the server's LISTEN for it has run, and a NOTIFY before the
   * LISTEN is lost: warm-up NOTIFYs are sent until every client got one. Each carries a row (its
   * id no row has), so it costs the server no read-back, whatever the delivery being measured.
   */
  async function warmUp(clients: ChildProcess, who: Audience): Promise<void> {
    const allWarm = reply(clients, "warm");
    let warm = false;
    void allWarm.then(() => (warm = true));
    for (let attempt = 0; !warm; attempt++) {
      if (attempt === 60) throw new Error("the subscriptions' LISTENs did not all start within a minute");
      await owner.query(WARM_UP, [who.members.map((m) => m.id), who.tenantId, NO_ROW]);
      await Promise.race([allWarm, new Promise((resolve) => setTimeout(resolve, 2000))]);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }

  let runs = 0;
  async function run(who: Audience, delivery: "payload" | "read-back"): Promise<Result> {
    await owner.query(delivery === "payload" ? payloadTrigger : readBackTrigger);
    const eventId = (
      await owner.query<{ id: string }>(
        `insert into app_public.events (tenant_id, name, starts_at, ends_at)
         values ($1, 'Fan-out', now() + interval '30 days', now() + interval '31 days') returning id`,
        [who.tenantId],
      )
    ).rows[0]!.id;
    await owner.query(
      "insert into app_public.event_participants (tenant_id, event_id, user_id) select $1, $2, unnest($3::uuid[])",
      [who.tenantId, eventId, who.members.map((m) => m.id)],
    );
    const probe = child("--probe");
    probe.send({ url: database.urls.ownerUrl, channels: who.members.map((m) => `user:${m.id}:notifications`) });
    const clients = child("--clients");
    // Each run connects from loopback addresses of its own: the server may still count the last
    // run's sockets, closing, against the per-address cap, and would refuse the upgrades (429).
    clients.send({ port, tokens: who.members.map((m) => m.token), block: 1 + (runs++ % 250) });
    await Promise.all([reply(probe, "ready"), reply(clients, "ready")]);
    await warmUp(clients, who);

    const receipts = reply(clients, "receipts");
    const profiler =
      process.env.FANOUT_PROFILE && delivery === "payload" && who.members.length === Math.max(...sizes)
        ? await startProfiler()
        : undefined;
    const cpu = cpuWindow({ server: process.pid, clients: clients.pid!, probe: probe.pid! });
    const started = process.hrtime.bigint();
    let jobStarted: bigint | undefined;
    const onJobStart = ({ job }: { job: { task_identifier: string } }) => {
      if (job.task_identifier === "event_cancelled") jobStarted = process.hrtime.bigint();
    };
    worker.events.on("job:start", onJobStart);
    const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${who.manager.token}` },
      body: JSON.stringify({
        query: "mutation ($id: UUID!) { rejectEvent(input: { eventId: $id }) { event { rejectedAt } } }",
        variables: { id: eventId },
      }),
    });
    if (!response.ok) throw new Error(await response.text());
    const responded = process.hrtime.bigint();
    const { receipts: got, errors } = await receipts;
    worker.events.off("job:start", onJobStart);
    const profile = await profiler?.stop();
    const cpuMs = cpu.since();
    if (profile) report(profile);
    probe.send("collect");
    const stamps = new Map((await reply(probe, "stamps")).stamps);
    clients.send("dispose");
    const ms = (from: bigint, to: bigint) => Number(to - from) / 1e6;
    const latencies = got.map(([rowId, at]) => ms(BigInt(stamps.get(rowId) ?? at), BigInt(at))).sort((a, b) => a - b);
    const quantile = (sorted: number[], q: number) =>
      sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
    const at = (q: number) => quantile(latencies, q);
    const fromMutation = got.map(([, s]) => ms(started, BigInt(s))).sort((a, b) => a - b);
    const firstNotify = [...stamps.values()].reduce((min, s) => (BigInt(s) < min ? BigInt(s) : min), BigInt(1e30));
    return {
      size: who.members.length,
      delivery,
      received: got.length,
      errors,
      lastMs: ms(
        started,
        got.reduce((max, [, s]) => (BigInt(s) > max ? BigInt(s) : max), started),
      ),
      receiptP50Ms: quantile(fromMutation, 0.5),
      firstNotifyMs: ms(started, firstNotify),
      responseMs: ms(started, responded),
      jobStartMs: jobStarted === undefined ? NaN : ms(started, jobStarted),
      p50: at(0.5),
      p99: at(0.99),
      max: latencies.at(-1) ?? NaN,
      cpuMs,
    };
  }

  async function startProfiler(): Promise<{ stop(): Promise<CpuProfile> }> {
    const session = new Session();
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 100 });
    await session.post("Profiler.start");
    return {
      async stop() {
        const { profile } = (await session.post("Profiler.stop")) as unknown as { profile: CpuProfile };
        session.disconnect();
        return profile;
      },
    };
  }

  function report(profile: CpuProfile): void {
    const resultsDir = join(projectRoot, "bench", "results");
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, "fanout.cpuprofile"), JSON.stringify(profile));
    const line = ({ share }: { share: number }, name: string) => `${(share * 100).toFixed(1).padStart(6)}%  ${name}\n`;
    process.stdout.write("\nServer and worker, mutation → last receipt: self time by package (% of busy samples)\n");
    for (const entry of selfByBucket(profile).slice(0, 12)) process.stdout.write(line(entry, entry.bucket));
    process.stdout.write("Top functions\n");
    for (const entry of topFunctions(profile, 15)) process.stdout.write(line(entry, entry.name));
  }

  // FANOUT_REMOVE_PER_JOB=1: the reminders removed as before migration 000025, one remove_job (and
  // one NOTIFY to the workers) per job, for an A/B against runs without it.
  const bulkRemoval = process.env.FANOUT_REMOVE_PER_JOB
    ? await definitionOf("app_private.remove_jobs(text[])")
    : undefined;
  if (bulkRemoval)
    await owner.query(`create or replace function app_private.remove_jobs(job_keys text[]) returns void
      language sql security definer
      set search_path to pg_catalog, public, pg_temp
      as $$ select graphile_worker.remove_job(k) from unnest(job_keys) k $$`);

  const results: Result[] = [];
  try {
    for (const size of sizes) {
      const who = await audience(size);
      for (let round = 0; round < rounds; round++)
        for (const delivery of ["read-back", "payload"] as const) results.push(await run(who, delivery));
    }
  } finally {
    await owner.query(payloadTrigger);
    if (bulkRemoval) await owner.query(bulkRemoval);
  }

  const f = (n: number) => n.toFixed(1).padStart(8);
  process.stdout.write(
    "\nNotification fan-out: rejectEvent → NOTIFY (probe) → each subscriber's receipt (ms; response, job start," +
      " 1st NOTIFY and last are from the mutation's start)\n" +
      "  subscribers  delivery    received  response  job start  1st NOTIFY  NOTIFY→client p50     p99     max" +
      "   mutation→p50    →last  errors   CPU ms: server clients probe postgres\n",
  );
  for (const r of results)
    process.stdout.write(
      `${String(r.size).padStart(13)}  ${r.delivery.padEnd(10)} ${String(r.received).padStart(9)}` +
        `  ${f(r.responseMs)}  ${f(r.jobStartMs).padStart(9)}  ${f(r.firstNotifyMs).padStart(10)}` +
        `  ${f(r.p50).padStart(17)} ${f(r.p99)} ${f(r.max)}` +
        `${f(r.receiptP50Ms).padStart(15)} ${f(r.lastMs)}${String(r.errors).padStart(8)}  ` +
        ["server", "clients", "probe", "postgres"].map((name) => String(r.cpuMs[name]).padStart(8)).join("") +
        "\n",
    );
  const resultsDir = join(projectRoot, "bench", "results");
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(
    join(resultsDir, "notification-fanout.json"),
    `${JSON.stringify({ at: new Date().toISOString(), results }, null, 2)}\n`,
  );
  for (const size of sizes) {
    const of = (delivery: string, key: "p99" | "lastMs") =>
      results.filter((r) => r.size === size && r.delivery === delivery).map((r) => r[key]);
    const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
    const ratio = (key: "p99" | "lastMs") => median(of("read-back", key)) / median(of("payload", key));
    process.stdout.write(
      `${String(size).padStart(13)}  read-back ÷ payload: p99 ${ratio("p99").toFixed(1)}×, ` +
        `last receipt ${ratio("lastMs").toFixed(1)}×\n`,
    );
  }

  await worker.stop();
  await server.close();
  await bench.close();
}
