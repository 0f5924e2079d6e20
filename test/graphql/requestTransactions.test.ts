/**
 * An authenticated GraphQL request checks its session, then each of its statements opens and ends
 * its own transaction in one write. Whatever the request does — nothing with the database, a parse
 * error, two root fields, a client that goes away during the check or never reads its answer — no
 * transaction stays open, no connection is held for it, and no request sees another's claims.
 */
import { type IncomingMessage, request as httpRequest, type ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestTenant, type TestUser } from "../helpers/fixtures.ts";
import { until } from "../helpers/wait.ts";

let app: TestApp;
let tenant: TestTenant;
let member: TestUser;

beforeAll(async () => {
  app = await startTestApp();
  tenant = await createTenant(app.db.ownerPool);
  member = await createUser(app.db.ownerPool, tenant, "member");
});
afterAll(() => app.stop());

/**
 * The server's request connections inside a transaction, idle in it or running a statement of it
 * (none when every request is over: a statement still waiting on a lock counts, as it will go on
 * in its transaction), and how many request connections there are (read as a superuser: other
 * roles' sessions are hidden from the owner).
 */
async function openTransactions(): Promise<number> {
  const { rows } = await app.db.rootPool.query<{ open: number; all: number }>(
    "select count(*) filter (where xact_start is not null)::int as open, count(*)::int as all " +
      "from pg_stat_activity where datname = current_database() and usename = $1",
    [new URL(app.db.urls.authenticatorUrl).username],
  );
  // Every test here has sent authenticated requests, so the server holds request connections.
  expect(rows[0]!.all).toBeGreaterThan(0);
  return rows[0]!.open;
}

async function post(body: string, token?: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`${app.url}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json, application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body,
  });
  return { status: response.status, body: await response.text() };
}

/** Waits until a statement whose text contains `fragment` waits on a lock. */
async function waitingOnLock(fragment: string, what: string): Promise<void> {
  await until(async () => {
    const { rows } = await app.db.rootPool.query(
      "select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' " +
        "and query like $1 and pid <> pg_backend_pid()",
      [`%${fragment}%`],
    );
    return rows.length === 1;
  }, what);
}

/** The member's tenant, asked on a connection of its own: answered within 10 s, or the test fails. */
async function expectAnswerMeanwhile(): Promise<void> {
  const response = await fetch(`${app.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${member.token}` },
    body: JSON.stringify({ query: "{ currentTenant { slug } }" }),
    signal: AbortSignal.timeout(10_000),
  });
  expect(await response.json()).toEqual({ data: { currentTenant: { slug: tenant.slug } } });
}

test("token requests without a database access (parse, validation error, no field) leave no transaction", async () => {
  // More requests at once than the request pool has connections: a transaction left open would
  // starve the ones after it.
  const answers = await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      [
        () => post(JSON.stringify({ query: "{ __typename }" }), member.token),
        () => post(JSON.stringify({ query: "{ currentTenant { " }), member.token),
        () => post(JSON.stringify({ query: "{ noSuchField }" }), member.token),
      ][i % 3]!(),
    ),
  );
  expect(answers.map((answer) => answer.status)).toEqual(answers.map((_, i) => (i % 3 === 0 ? 200 : 400)));
  await until(async () => (await openTransactions()) === 0, "no open transaction");
  const { body } = await app.graphql("{ currentTenant { slug } }", undefined, member.token);
  expect(body).toEqual({ data: { currentTenant: { slug: tenant.slug } } });
});

test("a client gone while its session is checked leaves no transaction open", async () => {
  const locker = await app.db.ownerPool.connect();
  try {
    // Hold the session check: it reads the sessions table, which this transaction locks.
    await locker.query("begin; lock table app_private.sessions in access exclusive mode");
    const requestId = `gone-${Date.now()}`;
    const seenGone = new Promise<void>((resolve) => {
      const onRequest = (req: IncomingMessage, res: ServerResponse) => {
        if (req.headers["x-request-id"] !== requestId) return;
        app.server.httpServer.off("request", onRequest);
        res.once("close", () => resolve());
      };
      app.server.httpServer.on("request", onRequest);
    });
    // A connection of its own, so that going away closes it.
    const body = JSON.stringify({ query: "{ currentTenant { slug } }" });
    const request = httpRequest(`${app.url}/graphql`, {
      method: "POST",
      agent: false,
      headers: {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
        authorization: `Bearer ${member.token}`,
        "x-request-id": requestId,
      },
    });
    request.on("error", () => {});
    request.end(body);
    await waitingOnLock("app_hidden.session_claims", "the session check waiting on the lock");
    request.destroy();
    await seenGone;
  } finally {
    await locker.query("commit");
    locker.release();
  }
  await until(async () => (await openTransactions()) === 0, "no open transaction");
  expect(await openTransactions()).toBe(0);
});

test("parallel members and anonymous callers each see their own claims, with one or two root fields", async () => {
  const other = await createTenant(app.db.ownerPool);
  const otherMember = await createUser(app.db.ownerPool, other, "member");
  const callers = [member, otherMember, undefined];
  const answers = await Promise.all(
    Array.from({ length: 90 }, async (_, i) => {
      const caller = callers[i % 3];
      const query = i % 2 ? "{ currentTenant { slug } }" : "{ currentTenant { slug } currentUser { email } }";
      const { body } = await app.graphql(query, undefined, caller?.token);
      return { caller, body };
    }),
  );
  for (const { caller, body } of answers) {
    const slug = caller === member ? tenant.slug : caller === otherMember ? other.slug : undefined;
    expect(body.data?.currentTenant).toEqual(slug ? { slug } : null);
    if ("currentUser" in (body.data ?? {}))
      expect(body.data?.currentUser).toEqual(caller ? { email: caller.email } : null);
  }
  await until(async () => (await openTransactions()) === 0, "no open transaction");
});

/** A POST /graphql whose body is sent in two parts, on a socket of its own; `finish` sends the rest. */
function slowRequest(token: string, query: string): { finish(): Promise<{ status: number; body: unknown }> } {
  const body = Buffer.from(JSON.stringify({ query }));
  const { port } = new URL(app.url);
  const socket: Socket = connect(Number(port), "127.0.0.1");
  const received: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => received.push(chunk));
  const ended = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.write(
    "POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nConnection: close\r\n" +
      `Authorization: Bearer ${token}\r\nContent-Length: ${body.length}\r\n\r\n`,
  );
  socket.write(body.subarray(0, 10));
  return {
    async finish() {
      // Not end(): a client that half-closes its side is one that left, for a Node server.
      socket.write(body.subarray(10));
      await ended;
      const text = Buffer.concat(received).toString("utf8");
      const [head, ...rest] = text.split("\r\n\r\n");
      const chunked = /transfer-encoding: chunked/i.test(head!);
      const payload = chunked ? rest.join("\r\n\r\n").split("\r\n")[1]! : rest.join("\r\n\r\n");
      return { status: Number(head!.split(" ")[1]), body: JSON.parse(payload) };
    },
  };
}

test("clients sending their bodies slowly hold no database connection meanwhile", async () => {
  // More of them than the request pool has connections (12): had each taken one with its
  // headers, the request below would wait for them.
  const slow = Array.from({ length: 14 }, () => slowRequest(member.token, "{ currentTenant { slug } }"));
  await expectAnswerMeanwhile();
  const answers = await Promise.all(slow.map((request) => request.finish()));
  expect(answers).toEqual(slow.map(() => ({ status: 200, body: { data: { currentTenant: { slug: tenant.slug } } } })));
  await until(async () => (await openTransactions()) === 0, "no open transaction");
});

test("requests queued on a pipelined connection whose answers are not read hold no database connection", async () => {
  const locker = await app.db.ownerPool.connect();
  const { port } = new URL(app.url);
  const socket = connect(Number(port), "127.0.0.1");
  const received: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => received.push(chunk));
  socket.on("error", () => {});
  try {
    // The first request waits on a lock in its query, so every answer after it on the connection
    // waits too (HTTP answers in order); the 14 after it fail to parse, or are refused, and never execute.
    await locker.query("begin; lock table app_public.events in access exclusive mode");
    const get = (query: string) =>
      `GET /graphql?query=${encodeURIComponent(query)} HTTP/1.1\r\nHost: localhost\r\n` +
      `Authorization: Bearer ${member.token}\r\n\r\n`;
    socket.write(get("{ searchEvents(upcoming: true) { nodes { name } } }") + get("{").repeat(14));
    await waitingOnLock("search_events", "the first request waiting on the lock");
    // More requests after it than the request pool has connections (12).
    await expectAnswerMeanwhile();
  } finally {
    await locker.query("commit");
    locker.release();
  }
  // Then the connection's 15 answers arrive, in order.
  const statuses = () =>
    Buffer.concat(received)
      .toString("utf8")
      .match(/HTTP\/1\.1 \d{3}/g) ?? [];
  await until(() => statuses().length === 15, "the pipelined answers");
  socket.destroy();
  // Past the 8 a connection may have waiting for their answers, the rest were refused at once (429).
  expect(statuses()).toEqual([
    "HTTP/1.1 200",
    ...Array.from({ length: 7 }, () => "HTTP/1.1 400"),
    ...Array.from({ length: 7 }, () => "HTTP/1.1 429"),
  ]);
  await until(async () => (await openTransactions()) === 0, "no open transaction");
});
