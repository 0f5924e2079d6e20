/**
 * SIGTERM in a real child process (`npm start`'s entry point against this test's database):
 * while a job runs, the job finishes, the process exits 0 and leaves no connection open; under a
 * small load of requests, in-flight requests are answered, WebSocket clients get a close frame
 * (1001 going away, not 1006) and nothing is logged at error level.
 */
import { spawn } from "node:child_process";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { projectRoot } from "../../../src/platform/paths.ts";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.ts";
import { freePort, waitForReady } from "../../helpers/process.ts";
import { queuedJobs } from "../../helpers/jobs.ts";
import { createTenant, createUser, TEST_JWT_SECRET } from "../../helpers/fixtures.ts";
import { until } from "../../helpers/wait.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

test("SIGTERM during a job: the job completes, sockets close, exit code 0, no connection left", async () => {
  // An SMTP server that accepts the message only once the test lets it: the send_email job is
  // mid-flight until the shutdown is under way.
  const delivered: string[] = [];
  let dataStarted: () => void = () => {};
  const inFlight = new Promise<void>((resolve) => (dataStarted = resolve));
  let accept: () => void = () => {};
  const accepted = new Promise<void>((resolve) => (accept = resolve));
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, callback) {
      dataStarted();
      stream.resume();
      stream.on(
        "end",
        () =>
          void accepted.then(() => {
            delivered.push(session.envelope.rcptTo[0]!.address);
            callback();
          }),
      );
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  const smtpPort = (smtp.server.address() as AddressInfo).port;
  const port = await freePort();
  const appName = `tessera-shutdown-${process.pid}`;

  const child = spawn(process.execPath, [join(projectRoot, "src", "cli", "start.ts")], {
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      DATABASE_URL: db.urls.ownerUrl,
      DATABASE_AUTHENTICATOR_URL: db.urls.authenticatorUrl,
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      LOG_LEVEL: "warn",
      PGAPPNAME: appName,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  try {
    await waitForReady(port, () => output);
    // A live WebSocket, to be closed by the shutdown.
    let closeCode: number | undefined;
    const client = createClient({
      url: `ws://127.0.0.1:${port}/graphql`,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      onNonLazyError: () => {},
      on: { closed: (event) => void (closeCode = (event as { code: number }).code) },
    });
    await new Promise((resolve, reject) =>
      client.subscribe({ query: "{ __typename }" }, { next: resolve, error: reject, complete: () => {} }),
    );

    await db.ownerPool.query(
      `select graphile_worker.add_job('send_email', '{"template":"password_changed","to":"slow@example.test"}')`,
    );
    await inFlight;
    child.kill("SIGTERM");
    // The shutdown is under way once it has closed the WebSocket; only then may the job finish.
    await until(() => closeCode !== undefined, "the shutdown to close the WebSocket");
    // A close frame saying "going away", not an abnormal closure (1006) of a destroyed socket.
    expect(closeCode).toBe(1001);
    accept();
    expect(await exited).toBe(0);
    await client.dispose();

    // The running job was allowed to finish: delivered once, gone from the queue, nothing left locked.
    expect(delivered).toEqual(["slow@example.test"]);
    expect(await queuedJobs(db.ownerPool, "send_email")).toEqual([]);
    const locked = await db.ownerPool.query(
      "select count(*)::int as n from graphile_worker.jobs where locked_at is not null",
    );
    expect(locked.rows[0].n).toBe(0);

    const { rows } = await db.rootPool.query(
      "select count(*)::int as n from pg_stat_activity where application_name = $1",
      [appName],
    );
    expect(rows[0].n).toBe(0);
  } finally {
    accept();
    if (child.exitCode === null) child.kill("SIGKILL");
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
  }
});

test(
  "SIGTERM under load: " + "requests answered, WebSocket closed with 1001, nothing logged at error level, exit 0",
  async () => {
    const tenant = await createTenant(db.ownerPool);
    const user = await createUser(db.ownerPool, tenant, "member");
    const port = await freePort();
    const child = spawn(process.execPath, [join(projectRoot, "src", "cli", "start.ts")], {
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        DATABASE_URL: db.urls.ownerUrl,
        DATABASE_AUTHENTICATOR_URL: db.urls.authenticatorUrl,
        JWT_SECRET: TEST_JWT_SECRET,
        LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    let loading = true;
    try {
      await waitForReady(port, () => output);
      // A signed-in WebSocket with a subscription in progress.
      let closeCode: number | undefined;
      const client = createClient({
        url: `ws://127.0.0.1:${port}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${user.token}` },
        lazy: false,
        retryAttempts: 0,
        onNonLazyError: () => {},
        on: { closed: (event) => void (closeCode = (event as { code: number }).code) },
      });
      await new Promise((resolve, reject) =>
        client.subscribe({ query: "{ currentUser { email } }" }, { next: resolve, error: reject, complete: () => {} }),
      );
      const unsubscribe = client.subscribe(
        { query: "subscription { notificationAdded { title } }" },
        { next: () => {}, error: () => {}, complete: () => {} },
      );

      // Twelve clients asking without pause (GraphQL, REST, readiness) on keep-alive connections.
      const statuses: number[] = [];
      const requests: Array<() => Promise<Response>> = [
        () =>
          fetch(`http://127.0.0.1:${port}/graphql`, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              accept: "application/json",
              authorization: `Bearer ${user.token}`,
            },
            body: JSON.stringify({ query: "{ currentUser { email } events { totalCount } }" }),
          }),
        () => fetch(`http://127.0.0.1:${port}/api/users/me`, { headers: { authorization: `Bearer ${user.token}` } }),
        () => fetch(`http://127.0.0.1:${port}/ready`),
      ];
      const load = Promise.all(
        Array.from({ length: 12 }, async (_, lane) => {
          for (let i = lane; loading; i++) {
            // A refused or closed connection is what a stopped server does; a failure inside it would be a status.
            const response = await requests[i % requests.length]!().catch(() => undefined);
            if (response) {
              statuses.push(response.status);
              await response.arrayBuffer();
            } else if (child.exitCode !== null) {
              return;
            }
          }
        }),
      );
      await until(() => statuses.length >= 40, "the load to be under way");
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      // The close frame arrives on its own socket, not necessarily before the exit event.
      await until(() => closeCode !== undefined, "the WebSocket close");
      loading = false;
      await load;
      unsubscribe();
      await client.dispose();
      expect(closeCode).toBe(1001);
      expect(statuses.filter((status) => status !== 200)).toEqual([]);
      const lines = output
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as { level: number; msg: string });
      expect(lines.some((line) => line.msg === "shutting down")).toBe(true);
      expect(lines.filter((line) => line.level >= 50)).toEqual([]);
      expect(output).not.toMatch(/Cannot use a pool after calling end/);
    } finally {
      loading = false;
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  },
);
