/**
 * A database outage under load: every request answers 503 SERVICE_UNAVAILABLE with Retry-After in
 * its transport's shape (REST envelope, GraphQL errors), none leaks a connection detail, and the
 * server recovers on its own when the database is back. The database sits behind a TCP proxy
 * that the test cuts (every connection reset, new ones refused) and restores.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from "node:net";
import { loadConfig, MODULES } from "../../../src/modules/index.ts";
import { createLogger } from "../../../src/platform/logger.ts";
import { createTesseraServer, type TesseraServer } from "../../../src/platform/server.ts";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import { createTenant, createUser, TEST_JWT_SECRET, type TestUser } from "../../helpers/fixtures.ts";
import { freePort } from "../../helpers/process.ts";
import { msSince, reportFigures, Tally } from "./figures.ts";

/** A TCP proxy to PostgreSQL that can be cut and restored on the same port. */
class CuttableProxy {
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  port = 0;
  readonly target: { host: string; port: number };
  constructor(target: { host: string; port: number }) {
    this.target = target;
  }

  async open(): Promise<void> {
    this.#server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on("close", () => this.#sockets.delete(socket));
        socket.on("error", () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    await new Promise<void>((resolve) => this.#server!.listen(this.port, "127.0.0.1", resolve));
    this.port = (this.#server.address() as AddressInfo).port;
  }

  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}

let db: TestDatabase;
let proxy: CuttableProxy;
let server: TesseraServer;
let url: string;
let owner: TestUser;

beforeAll(async () => {
  db = await createTestDatabase();
  const direct = new URL(db.urls.ownerUrl);
  proxy = new CuttableProxy({ host: direct.hostname, port: Number(direct.port) });
  // Reopened on the same port after the cut: one below the ephemeral range, which an outgoing
  // connection cannot take in between (see freePort).
  proxy.port = await freePort();
  await proxy.open();
  const viaProxy = (value: string) => Object.assign(new URL(value), { port: String(proxy.port) }).toString();
  const database = {
    ...db.urls,
    ownerUrl: viaProxy(db.urls.ownerUrl),
    authenticatorUrl: viaProxy(db.urls.authenticatorUrl),
  };
  const config = { ...loadConfig({ APP_ENV: "test", JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: "silent" }), database };
  server = await createTesseraServer({
    modules: MODULES,
    config,
    database,
    logger: createLogger(process.env.TEST_LOG_LEVEL ?? "silent"),
  });
  await new Promise<void>((resolve) => server.httpServer.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.httpServer.address() as AddressInfo).port}`;
  owner = await createUser(db.ownerPool, await createTenant(db.ownerPool), "owner");
});
afterAll(async () => {
  await proxy.cut();
  await server.close();
  await db.drop();
});

interface Answer {
  name: string;
  status: number;
  retryAfter: string | null;
  body: string;
}

/** What each kind of client sees: authenticated REST and GraphQL, anonymous GraphQL, a login. */
async function probe(): Promise<Answer[]> {
  const auth = { authorization: `Bearer ${owner.token}` };
  const graphql = (headers: Record<string, string>) => ({
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", ...headers },
    body: JSON.stringify({ query: "{ searchEvents { totalCount } }" }),
  });
  const requests: Array<[string, string, RequestInit]> = [
    ["rest me", "/api/users/me", { headers: auth }],
    [
      "rest login",
      "/api/auth/login",
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ tenant: "nope", login: "x", password: "y" }),
      },
    ],
    ["graphql signed in", "/graphql", graphql(auth)],
    ["graphql anonymous", "/graphql", graphql({})],
  ];
  return Promise.all(
    requests.map(async ([name, path, init]) => {
      const response = await fetch(`${url}${path}`, init);
      return {
        name,
        status: response.status,
        retryAfter: response.headers.get("retry-after"),
        body: await response.text(),
      };
    }),
  );
}

function expectUnavailable(answer: Answer): void {
  expect({
    name: answer.name,
    status: answer.status,
    retryAfter: answer.retryAfter,
    body: answer.status === 503 ? "" : answer.body,
  }).toEqual({ name: answer.name, status: 503, retryAfter: "5", body: "" });
  const body = JSON.parse(answer.body) as {
    error?: { code: string };
    errors?: Array<{ extensions?: { code?: string } }>;
  };
  const code = answer.name.startsWith("rest") ? body.error?.code : body.errors?.[0]?.extensions?.code;
  expect(code).toBe("SERVICE_UNAVAILABLE");
  expect(answer.body).not.toMatch(/ECONN|127\.0\.0\.1|terminated|connect/i);
}

/** Polls until every probe answers as the database being up does, with a deadline. */
async function waitForRecovery(deadlineMs = 20_000): Promise<Answer[]> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const answers = await probe();
    if (answers.every((answer) => answer.status !== 503)) return answers;
    if (Date.now() > deadline) throw new Error(`no recovery: ${JSON.stringify(answers)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test(
  "during an outage every transport answers 503 SERVICE_UNAVAILABLE with Retry-After; afterwards it recovers " +
    "without a restart",
  async () => {
    const before = await probe();
    expect(before.map((answer) => answer.status)).toEqual([200, 401, 200, 200]);

    // Load keeps running across the cut and the return: no answer may be anything but success,
    // the login's refusal or 503.
    let loading = true;
    const seen = new Set<string>();
    const tally = new Tally();
    const load = (async () => {
      while (loading)
        for (const answer of await probe()) {
          seen.add(`${answer.name} ${answer.status}`);
          tally.add(answer.status);
        }
    })();

    let recoveredMs = 0;
    try {
      await proxy.cut();
      const during = await probe();
      for (const answer of during) expectUnavailable(answer);

      await proxy.open();
      const reopened = performance.now();
      const after = await waitForRecovery();
      recoveredMs = msSince(reopened);
      expect(after.map((answer) => answer.status)).toEqual([200, 401, 200, 200]);
    } finally {
      loading = false;
      await load;
    }
    reportFigures("outage (proxy cut)", {
      requests: tally.total,
      ok: tally.of(200),
      refusedLogin401: tally.of(401),
      unavailable503: tally.of(503),
      otherErrors: tally.other(200, 401, 503).reduce((sum, [, n]) => sum + n, 0),
      msReopenToRequestsOk: recoveredMs,
    });
    expect([...seen].filter((entry) => !/ (200|401|503)$/.test(entry))).toEqual([]);
  },
);
