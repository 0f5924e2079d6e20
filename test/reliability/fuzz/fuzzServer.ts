/**
 * The fuzzers' target: `npm run server`'s entry point (the API alone, no worker, so nothing but a
 * request changes a row or a job) as a child process over a database of the test file's own, with a
 * mock payment provider in the test process. A crash is seen as what it is — the process gone — and
 * every error-level line it logs (a server fault) is collected. Also: what the fuzzers check each
 * answer against (the error table of docs/errors.md), the row counts that prove a refused request
 * wrote nothing, and signed-in callers of every kind.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEV_PAYMENT_WEBHOOK_SECRET } from "../../../src/modules/payments/config.ts";
import {
  type MockPaymentsProvider,
  startMockPaymentsProvider,
} from "../../../src/modules/payments/providers/mockServer.ts";
import { projectRoot } from "../../../src/platform/paths.ts";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import {
  createSession,
  createTenant,
  createUser,
  mintToken,
  TEST_JWT_SECRET,
  type TestTenant,
  type TestUser,
} from "../../helpers/fixtures.ts";
import { freePort, waitForReady } from "../../helpers/process.ts";

/** The documented error codes and their REST status: the table of docs/errors.md, parsed. */
export function documentedErrors(): Map<string, number> {
  const text = readFileSync(join(projectRoot, "docs", "errors.md"), "utf8");
  const table = new Map<string, number>();
  for (const match of text.matchAll(/^\| `([A-Z_]+)` \| [a-z]+ \| (\d{3}) \|/gm))
    table.set(match[1]!, Number(match[2]));
  if (table.size < 10) throw new Error("docs/errors.md: the error table was not found");
  return table;
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The parsed body when it is JSON. */
  json?: unknown;
}

export interface WireRequest {
  method: string;
  /** Path and query, already encoded: sent byte for byte. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface FuzzServer {
  url: string;
  db: TestDatabase;
  mock: MockPaymentsProvider;
  /** Sends a request as it is (no URL normalisation); a dead server is an answer with status 0. */
  send(request: WireRequest): Promise<Answer>;
  /** Throws when the process has exited or /ready is not 200, with its output. */
  expectAlive(): Promise<void>;
  /** True while the process runs. */
  running(): boolean;
  /**
   * Error-level (and fatal) log lines since the last call, once every line logged before now has
   * arrived: a request's own log line is the barrier (the process writes its output in order).
   */
  takeErrorLines(): Promise<string[]>;
  /** The server's whole output so far. */
  output(): string;
  stop(): Promise<void>;
}

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

export async function startFuzzServer(env: Record<string, string> = {}): Promise<FuzzServer> {
  const db = await createTestDatabase();
  const uploads = mkdtempSync(join(tmpdir(), "tessera-fuzz-"));
  const mock = await startMockPaymentsProvider({ webhookSecret: DEV_PAYMENT_WEBHOOK_SECRET });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  mock.setWebhookUrl(`${url}/api/webhook/payments/mock`);
  let output = "";
  let pending = "";
  let errorLines: string[] = [];
  // Barrier ids waited for, each with what to call once its line arrived.
  const barriers = new Map<string, () => void>();
  let barrierCount = 0;
  const child: ChildProcess = spawn(process.execPath, [join(projectRoot, "src", "cli", "server.ts")], {
    env: {
      PATH: process.env.PATH,
      APP_ENV: "test",
      PORT: String(port),
      DATABASE_URL: db.urls.ownerUrl,
      DATABASE_AUTHENTICATOR_URL: db.urls.authenticatorUrl,
      JWT_SECRET: TEST_JWT_SECRET,
      IMAGE_UPLOAD_PATH: uploads,
      IMAGE_MAX_BYTES: "65536",
      // Info: each request's own line is the barrier that says every earlier line has arrived.
      LOG_LEVEL: "info",
      BOT_API_RATE_LIMIT: "1000000",
      MOCK_PAYMENTS_PROVIDER_URL: mock.url,
      PAYMENT_WEBHOOK_SECRET: DEV_PAYMENT_WEBHOOK_SECRET,
      // Nothing may leave the machine: outside services point at a closed local port.
      TELEGRAM_API_URL: "http://127.0.0.1:9",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const onData = (chunk: Buffer) => {
    const text = chunk.toString("utf8");
    output += text;
    pending += text;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (isErrorLine(line)) errorLines.push(line);
      const barrier = /"requestId":"(fuzz-barrier-\d+)"/.exec(line)?.[1];
      if (barrier) barriers.get(barrier)?.();
    }
    // Enough of the output to tell why the process died.
    if (output.length > 1_000_000) output = output.slice(-500_000);
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const running = () => child.exitCode === null && child.signalCode === null;
  // A process that is gone logs nothing more: no barrier waits for it.
  child.once("exit", () => {
    for (const release of barriers.values()) release();
  });
  await waitForReady(port, () => output, 90_000);

  const server: FuzzServer = {
    url,
    db,
    mock,
    running,
    output: () => output,
    async takeErrorLines() {
      const id = `fuzz-barrier-${++barrierCount}`;
      let timer: NodeJS.Timeout | undefined;
      const logged = new Promise<void>((resolve, reject) => {
        barriers.set(id, resolve);
        timer = setTimeout(() => reject(new Error(`the server did not log its answer to ${id}\n${output}`)), 20_000);
      });
      try {
        await sendRaw(port, { method: "GET", path: "/ready", headers: { "x-request-id": id } });
        await logged;
      } finally {
        clearTimeout(timer);
        barriers.delete(id);
      }
      const taken = errorLines;
      errorLines = [];
      return taken;
    },
    send: (wire) => sendRaw(port, wire),
    async expectAlive() {
      const ready = running() ? (await sendRaw(port, { method: "GET", path: "/ready" })).status : 0;
      if (!running() || ready !== 200)
        throw new Error(
          `the server is down (exit ${child.exitCode}, signal ${child.signalCode}, /ready ${ready})\n${output}`,
        );
    },
    async stop() {
      if (running()) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      agent.destroy();
      await mock.close();
      await db.drop();
      rmSync(uploads, { recursive: true, force: true });
    },
  };
  return server;
}

/** A pino line at error level or above (50 error, 60 fatal), or anything that is not a log line. */
function isErrorLine(line: string): boolean {
  if (!line.trim()) return false;
  try {
    const parsed = JSON.parse(line) as { level?: unknown };
    return typeof parsed.level !== "number" || parsed.level >= 50;
  } catch {
    // Node's own warnings (experimental features) are not faults; a stack trace is.
    return !/ExperimentalWarning|--trace-warnings/.test(line);
  }
}

function sendRaw(port: number, wire: WireRequest): Promise<Answer> {
  return new Promise((resolve) => {
    const body = wire.body === undefined ? undefined : Buffer.from(wire.body);
    const headers: Record<string, string | number> = { ...(wire.headers ?? {}) };
    if (body) headers["content-length"] = body.length;
    const req = request(
      { host: "127.0.0.1", port, method: wire.method, path: wire.path, headers, agent, insecureHTTPParser: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", (error) => resolve({ status: 0, headers: {}, text: `response error: ${error.message}` }));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          if (String(res.headers["content-type"] ?? "").includes("json")) {
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on("error", (error) => resolve({ status: 0, headers: {}, text: `request error: ${error.message}` }));
    req.end(body);
  });
}

/**
 * Row counts of every table of app_public and of graphile-worker's jobs, in one statement: equal
 * before and after a request that was refused, or the refusal left a partial write behind.
 */
export async function rowCounter(db: TestDatabase): Promise<() => Promise<Record<string, number>>> {
  const { rows } = await db.ownerPool.query<{ name: string }>(
    `select format('%I.%I', n.nspname, c.relname) as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'app_public' and c.relkind in ('r', 'p') order by 1`,
  );
  const tables = [...rows.map((row) => row.name), "graphile_worker._private_jobs"];
  const sql = `select ${tables.map((table, i) => `(select count(*) from ${table})::int as c${i}`).join(", ")}`;
  return async () => {
    const { rows: counts } = await db.ownerPool.query<Record<string, number>>(sql);
    return Object.fromEntries(tables.map((table, i) => [table, counts[0]![`c${i}`]!]));
  };
}

/**
 * Columns of app_public holding a value no input should be able to write: NaN or ±Infinity in a
 * number, ±infinity in a date or time (PostgreSQL takes them as text; our API should not). The
 * function returns the columns found since its last call, each reported once.
 */
export async function poisonFinder(db: TestDatabase): Promise<() => Promise<string[]>> {
  const { rows } = await db.ownerPool.query<{ table_name: string; column_name: string; data_type: string }>(
    `select c.table_name, c.column_name, c.data_type from information_schema.columns c
       join information_schema.tables t using (table_schema, table_name)
      where c.table_schema = 'app_public' and t.table_type = 'BASE TABLE'
        and c.data_type in ('numeric', 'double precision', 'real', 'timestamp with time zone', 'date',
                            'timestamp without time zone')`,
  );
  const checks = rows.map(({ table_name: table, column_name: column, data_type: type }) => {
    const where = /time|date/.test(type)
      ? `not isfinite(${column})`
      : `${column} in ('NaN'::${type}, 'Infinity'::${type}, '-Infinity'::${type})`;
    return `select '${table}.${column}' as found where exists (select 1 from app_public.${table} where ${where})`;
  });
  const sql = checks.join(" union all ");
  const reported = new Set<string>();
  return async () => {
    if (checks.length === 0) return [];
    const { rows: found } = await db.ownerPool.query<{ found: string }>(sql);
    const fresh = found.map((row) => row.found).filter((column) => !reported.has(column));
    for (const column of fresh) reported.add(column);
    return fresh.map((column) => `wrote a non-finite value into ${column}`);
  };
}

/** What changed between two row counts: "table: before → after" for each table that differs. */
export function countChanges(before: Record<string, number>, after: Record<string, number>): string[] {
  return Object.keys(after)
    .filter((table) => before[table] !== after[table])
    .map((table) => `${table}: ${before[table]} → ${after[table]}`);
}

export interface Signed {
  tenant: TestTenant;
  owner: TestUser;
  /** A bearer token of a new session of the owner (a request may end the session it came with). */
  freshToken(): Promise<string>;
}

/** A tenant of the fuzzer's own with an owner. */
export async function signedInOwner(db: TestDatabase): Promise<Signed> {
  const tenant = await createTenant(db.ownerPool);
  const owner = await createUser(db.ownerPool, tenant, "owner");
  return {
    tenant,
    owner,
    async freshToken() {
      const sid = await createSession(db.ownerPool, owner.id);
      return mintToken({ sub: owner.id, tid: tenant.id, role: "owner", sid });
    },
  };
}

/** POST /graphql as `token`; fails on any error (for the fuzzers' own set-up). */
// biome-ignore lint/suspicious/noExplicitAny: set-up reads answers by path
export async function setupGql(server: FuzzServer, token: string, query: string, variables = {}): Promise<any> {
  const answer = await server.send({
    method: "POST",
    path: "/graphql",
    headers: { "content-type": "application/json", accept: "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = answer.json as { data?: unknown; errors?: unknown } | undefined;
  if (!body || body.errors) throw new Error(`set-up GraphQL failed (${answer.status}): ${answer.text.slice(0, 2000)}`);
  return body.data;
}

/**
 * A store in the tenant, made as an admin would (GraphQL) and as a bot would (REST): an API key, a
 * bot, a category, two products, a customer, an order paid at the mock provider; then one of
 * everything else (`seedOthers`). Their ids seed the fuzzers.
 */
export async function seedStore(
  server: FuzzServer,
  signed: Signed,
): Promise<{ apiKey: string; botId: string; telegramId: number }> {
  const token = await signed.freshToken();
  const gql = (query: string, variables = {}) => setupGql(server, token, query, variables);
  const key = await gql(`mutation { createApiKey(input: { name: "fuzz" }) { created { secret } } }`);
  const bot = await gql(`mutation { createBot(input: { name: "Fuzz bot", referralPercent: "10" }) { bot { rowId } } }`);
  const category = await gql(
    `mutation { createCategory(input: { category: { name: "Fuzz" } }) { category { rowId } } }`,
  );
  for (const [name, stock] of [
    ["Scarce", 3],
    ["Plenty", null],
  ] as const)
    await gql(`mutation($p: ProductInput!) { createProduct(input: { product: $p }) { product { rowId } } }`, {
      p: { name, price: "2.50", stock, categoryId: category.createCategory.category.rowId },
    });
  const apiKey: string = key.createApiKey.created.secret;
  const botId: string = bot.createBot.bot.rowId;
  const telegramId = 31337;
  const headers = { "x-api-key": apiKey, "x-bot-id": botId, "content-type": "application/json" };
  const customer = await server.send({
    method: "POST",
    path: "/api/bot/customers",
    headers,
    body: JSON.stringify({ telegramId }),
  });
  if (customer.status >= 300) throw new Error(`set-up: customer ${customer.status} ${customer.text}`);
  const { rows } = await server.db.ownerPool.query<{ id: string }>(
    "select id from app_public.products where tenant_id = $1 order by name",
    [signed.tenant.id],
  );
  const order = await server.send({
    method: "POST",
    path: "/api/bot/orders",
    headers,
    body: JSON.stringify({ telegramId, items: [{ productId: rows[0]!.id, quantity: 1 }] }),
  });
  if (order.status >= 300) throw new Error(`set-up: order ${order.status} ${order.text}`);
  const orderId = (order.json as { id?: string }).id;
  const payment = await server.send({
    method: "POST",
    path: `/api/bot/orders/${orderId}/pay`,
    headers,
    body: JSON.stringify({ method: "provider" }),
  });
  if (payment.status >= 300) throw new Error(`set-up: payment ${payment.status} ${payment.text}`);
  await seedOthers(gql, signed, botId, server.db);
  return { apiKey, botId, telegramId };
}

/**
 * The rest of what a tenant holds, one of each, so that mutations acting on them find them: an
 * event, a group chat with a member and a message, a build, a broadcast (its bot given a token).
 */
async function seedOthers(
  // biome-ignore lint/suspicious/noExplicitAny: set-up reads answers by path
  gql: (query: string, variables?: Record<string, unknown>) => Promise<any>,
  signed: Signed,
  botId: string,
  db: TestDatabase,
): Promise<void> {
  const day = 24 * 60 * 60 * 1000;
  await gql(
    `mutation($s: Datetime!, $e: Datetime!) { createEvent(input: { name: "Fuzz meetup", startsAt: $s, endsAt: $e }) {
       event { rowId } } }`,
    { s: new Date(Date.now() + 7 * day).toISOString(), e: new Date(Date.now() + 8 * day).toISOString() },
  );
  const member = await createUser(db.ownerPool, signed.tenant, "member");
  const chat = await gql(
    `mutation($m: [UUID]!) { createGroupChat(input: { title: "Fuzz", memberIds: $m }) { chat { rowId } } }`,
    { m: [member.id] },
  );
  await gql(`mutation($c: UUID!) { sendMessage(input: { chatId: $c, body: "hello" }) { message { rowId } } }`, {
    c: chat.createGroupChat.chat.rowId,
  });
  await gql("mutation { requestBuild(input: {}) { build { rowId } } }");
  await gql(
    `mutation($b: UUID!) { setBotToken(input: { botId: $b, token: "123456:AAAAAAAAAAAAAAAAAAAAAAAAA" }) {
    bot { rowId } } }`,
    { b: botId },
  );
  await gql(
    `mutation($b: UUID!) { createBroadcast(input: { broadcast: { botId: $b, text: "hi" } }) {
    broadcast { rowId } } }`,
    { b: botId },
  );
}

/**
 * Ids of the tenant's rows (every app_public table with tenant_id and a uuid id), by table, to put
 * real ids into inputs; the tenant's own id is listed under `tenants`.
 */
export async function tenantIds(db: TestDatabase, tenantId: string): Promise<Record<string, string[]>> {
  const { rows: tables } = await db.ownerPool.query<{ name: string }>(
    `select c.table_name as name from information_schema.columns c
      where c.table_schema = 'app_public' and c.column_name = 'tenant_id'
        and exists (select 1 from information_schema.columns i where i.table_schema = 'app_public'
                    and i.table_name = c.table_name and i.column_name = 'id' and i.data_type = 'uuid')`,
  );
  const ids: Record<string, string[]> = { tenants: [tenantId] };
  for (const { name } of tables) {
    const { rows } = await db.ownerPool.query<{ id: string }>(
      `select id from app_public.${name} where tenant_id = $1 limit 5`,
      [tenantId],
    );
    if (rows.length > 0) ids[name] = rows.map((row) => row.id);
  }
  return ids;
}

/** The payment provider's ids of the tenant's payments (what its webhooks name). */
export async function providerPaymentIds(db: TestDatabase, tenantId: string): Promise<string[]> {
  const { rows } = await db.ownerPool.query<{ id: string }>(
    `select provider_payment_id as id from app_public.payments
      where tenant_id = $1 and provider_payment_id is not null`,
    [tenantId],
  );
  return rows.map((row) => row.id);
}

/** Ids of the jobs the tenant's rows queued (retryJob and discardJob name them). */
export async function tenantJobIds(db: TestDatabase, tenantId: string): Promise<number[]> {
  const { rows } = await db.ownerPool.query<{ id: string }>(
    "select id from graphile_worker._private_jobs where payload->>'tenantId' = $1 order by id limit 10",
    [tenantId],
  );
  return rows.map((row) => Number(row.id));
}
