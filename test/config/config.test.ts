import { spawnSync } from "node:child_process";
import { createServer, type AddressInfo, type Server } from "node:net";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import express from "express";
import { loadConfig } from "../../src/modules/index.ts";
import { projectRoot } from "../../src/platform/paths.ts";
import { problemsOf } from "../helpers/config.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { freePort, spawnEntryPoint } from "../helpers/process.ts";
import { until } from "../helpers/wait.ts";

describe("loadConfig", () => {
  test("defaults make a working development configuration", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: "dev",
      port: 8080,
      isProduction: false,
      workerConcurrency: 5,
      database: undefined,
    });
  });

  test("every problem is reported at once", () => {
    expect(problemsOf({ PORT: "abc", APP_ENV: "prod", JWT_SECRET: "0123456789", WORKER_CONCURRENCY: "0" })).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^PORT: /),
        expect.stringMatching(/^JWT_SECRET: must be at least 32 characters/),
        expect.stringMatching(/^WORKER_CONCURRENCY: /),
        expect.stringMatching(/^DATABASE_URL: is required when APP_ENV=prod/),
      ]),
    );
  });

  test("production refuses the development secrets", () => {
    expect(
      problemsOf({
        APP_ENV: "prod",
        DATABASE_URL: "postgres://a@h/db",
        DATABASE_AUTHENTICATOR_URL: "postgres://b@h/db",
      }),
    ).toEqual([
      expect.stringMatching(/^JWT_SECRET: the development default is refused/),
      expect.stringMatching(/^TOTP_ENCODE_SECRET: the development default is refused/),
    ]);
  });

  test("an external database needs the authenticator URL too, and derives the visitor role", () => {
    expect(problemsOf({ DATABASE_URL: "postgres://owner@db/app" })).toEqual([
      expect.stringMatching(/^DATABASE_AUTHENTICATOR_URL: /),
    ]);
    const config = loadConfig({
      DATABASE_URL: "postgres://app@db/app",
      DATABASE_AUTHENTICATOR_URL: "postgres://app_authenticator:pw@db/app",
    });
    expect(config.database).toMatchObject({ ownerUrl: "postgres://app@db/app", visitorRole: "app_visitor" });
  });

  test("values that would be accepted and never work are named: origins with a path, SMTP without a host…", () => {
    expect(
      problemsOf({
        CORS_ORIGINS: "https://app.example.test/path",
        SMTP_URL: "smtp://",
        MAIL_FROM: "not an address",
        DATABASE_VISITOR: `v${"x".repeat(63)}`,
        ACCESS_TOKEN_TTL_MINUTES: "60",
        REFRESH_TOKEN_TTL_MINUTES: "30",
        PLATFORM_PAYMENT_SYSTEM_LOGIN: "   ",
      }).sort(),
    ).toEqual(
      [
        "CORS_ORIGINS: must be * or a comma-separated list of http(s) origins " +
          "(scheme, host and port: no path, no trailing /)",
        "SMTP_URL: must name a host, and a port of 1–65535 if any: smtp://user:password@host:587",
        "MAIL_FROM: must be an address, or a name and <address>",
        "DATABASE_VISITOR: must be a lower-case role name of at most 63 characters",
        "REFRESH_TOKEN_TTL_MINUTES: must be at least ACCESS_TOKEN_TTL_MINUTES",
        "PLATFORM_PAYMENT_SYSTEM_LOGIN: must not be blank",
      ].sort(),
    );
    expect(
      problemsOf({
        CORS_ORIGINS: "https://app.example.test, http://localhost:3000",
        SMTP_URL: "smtps://user:pw@mail.example.test:465",
        MAIL_FROM: "Shop <shop@example.test>",
      }),
    ).toEqual([]);
    expect(problemsOf({ SMTP_URL: "smtp://u:p@host:99999" })).toHaveLength(1);
  });

  test("an origin no browser can send is named, with how browsers write it where there is one", () => {
    // Fails on the code before the fix: each was accepted, and no request's Origin ever matched it.
    expect(
      problemsOf({
        CORS_ORIGINS:
          "https://a.test:99999, https://a.test?x=1, https://user@a.test, https://ä.test, https://A.test:443",
      }),
    ).toEqual([
      ...["https://a.test:99999", "https://a.test?x=1", "https://user@a.test"].map(
        (entry) =>
          `CORS_ORIGINS: ${entry} is not an origin (scheme, host and a port of 1–65535; no user, query or fragment)`,
      ),
      "CORS_ORIGINS: https://ä.test is not written as browsers send it: https://xn--4ca.test",
      "CORS_ORIGINS: https://A.test:443 is not written as browsers send it: https://a.test",
    ]);
  });

  test("NODE_ENV=production without APP_ENV is refused: it would have run the development settings", () => {
    // Fails on the code before the fix: the server started with open CORS, Ruru and published secrets.
    expect(problemsOf({ NODE_ENV: "production" })).toEqual([
      "APP_ENV: must be set when NODE_ENV=production (prod or stage; dev to run development settings)",
    ]);
    expect(problemsOf({ NODE_ENV: "production", APP_ENV: "dev" })).toEqual([]);
  });

  test("secrets and the metrics token with white space at either end are refused, in every environment", () => {
    // Fails on the code before the fix: a published secret with a line end passed the production checks.
    const published = "change-me-to-a-long-random-secret-of-32-chars-or-more";
    for (const env of ["dev", "prod"]) {
      expect(
        problemsOf({ APP_ENV: env, JWT_SECRET: `${published}\n`, TOTP_ENCODE_SECRET: `  ${published}x  ` }),
      ).toEqual(
        expect.arrayContaining([
          "JWT_SECRET: must not start or end with white space",
          "TOTP_ENCODE_SECRET: must not start or end with white space",
        ]),
      );
    }
    expect(problemsOf({ SERVICE_API_KEY: " tsk_abcdefghijklmnopqrstuvwxyz0123456789 " })).toEqual([
      "SERVICE_API_KEY: must not start or end with white space",
    ]);
    expect(problemsOf({ METRICS_TOKEN: "  abcdefghijklmnopqrstuvwxyz  " })).toEqual([
      "METRICS_TOKEN: must not start or end with white space",
    ]);
    expect(problemsOf({ METRICS_TOKEN: " ".repeat(20) })).toEqual([
      "METRICS_TOKEN: must not start or end with white space",
    ]);
  });

  test("a path that is blank or has a space at either end is named, not made into a directory", () => {
    const message = "must not start or end with a space (nor be blank)";
    expect(
      problemsOf({
        EMBEDDED_DATABASE_DIR: " ",
        IMAGE_UPLOAD_PATH: "/var/images ",
        BACKUP_PG_BIN_DIR: "\t/usr/bin",
        GRAPHQL_PERSISTED_OPERATIONS_DIR: "  ",
      }).sort(),
    ).toEqual(
      [
        `EMBEDDED_DATABASE_DIR: ${message}`,
        `IMAGE_UPLOAD_PATH: ${message}`,
        `BACKUP_PG_BIN_DIR: ${message}`,
        `GRAPHQL_PERSISTED_OPERATIONS_DIR: ${message}`,
      ].sort(),
    );
    expect(problemsOf({ IMAGE_UPLOAD_PATH: "/var/my images", EMBEDDED_DATABASE_DIR: "relative/dir" })).toEqual([]);
  });

  test("a connection string must name a user and a host, and a port that exists", () => {
    const authenticator = "postgres://a@db/app";
    for (const url of ["postgres://", "postgres://db/app", "postgres://app@db:99999/app", "postgres://app@db:0/app"]) {
      expect(problemsOf({ DATABASE_URL: url, DATABASE_AUTHENTICATOR_URL: authenticator })).toEqual([
        "DATABASE_URL: must name a user and a host, and a port of 1–65535 if any: postgres://user@host:5432/db",
      ]);
    }
    // A socket directory and the user as parameters, and an IPv6 host, are connection strings too.
    for (const url of ["postgres:///app?host=/var/run/postgresql&user=app", "postgresql://app:pw@[::1]:5433/app"]) {
      expect(problemsOf({ DATABASE_URL: url, DATABASE_AUTHENTICATOR_URL: authenticator })).toEqual([]);
    }
  });

  test("behind a transaction pooler: a LISTEN URL of its own and no named prepared statements", () => {
    const external = { DATABASE_URL: "postgres://app@db/app", DATABASE_AUTHENTICATOR_URL: "postgres://a@db/app" };
    expect(loadConfig(external).database).toMatchObject({ listenUrl: undefined, preparedStatements: true });
    const pooled = loadConfig({
      ...external,
      DATABASE_LISTEN_URL: "postgres://a@pgbouncer:6432/app_session",
      DATABASE_PREPARED_STATEMENTS: "false",
    });
    expect(pooled.database).toMatchObject({
      listenUrl: "postgres://a@pgbouncer:6432/app_session",
      preparedStatements: false,
    });
    expect(problemsOf({ ...external, DATABASE_LISTEN_URL: "mysql://x", DATABASE_PREPARED_STATEMENTS: "no" })).toEqual([
      "DATABASE_LISTEN_URL: must be a postgres:// connection string",
      "DATABASE_PREPARED_STATEMENTS: must be true or false",
    ]);
    // The embedded database has no pooler in front: both would be ignored, so they are refused.
    expect(problemsOf({ DATABASE_LISTEN_URL: "postgres://a@h/db", DATABASE_PREPARED_STATEMENTS: "false" })).toEqual([
      "DATABASE_LISTEN_URL: is only read with DATABASE_URL (an external database)",
      "DATABASE_PREPARED_STATEMENTS: is only read with DATABASE_URL (an external database)",
    ]);
  });

  test("numbers are whole numbers in decimal digits, as written", () => {
    expect(loadConfig({ PORT: " 8090 ", WORKER_CONCURRENCY: "7" })).toMatchObject({ port: 8090, workerConcurrency: 7 });
    // JavaScript's Number() reads each of these as something else (16, 1000, 3, Infinity).
    for (const port of ["0x10", "1e3", "0b11", "Infinity", "8080.0", "8_080"])
      expect(problemsOf({ PORT: port })).toEqual(["PORT: must be a whole number"]);
    expect(problemsOf({ ACCESS_TOKEN_TTL_MINUTES: "0x10" })).toEqual([
      "ACCESS_TOKEN_TTL_MINUTES: must be a whole number",
    ]);
    // Digits past 2^53 are a whole number, too big; and a value out of its own range is named alone,
    // not also in a comparison with another variable left at its default.
    expect(
      problemsOf({ GRAPHQL_MAX_PAGE_SIZE: "99999999999999999999999", ACCESS_TOKEN_TTL_MINUTES: "99999999999999" }),
    ).toEqual(["GRAPHQL_MAX_PAGE_SIZE: must be at most 10000", "ACCESS_TOKEN_TTL_MINUTES: must be at most 1440"]);
  });

  test("TRUST_PROXY takes only what Express can read, and Express reads all of it", () => {
    for (const value of ["10.0.0.0/8, ::1/128,loopback", "192.168.0.0/255.255.0.0", "fd00::/8", "2", "true"]) {
      const { trustProxy } = loadConfig({ TRUST_PROXY: value });
      expect(() => express().set("trust proxy", trustProxy)).not.toThrow();
    }
    for (const value of [
      "999.1.1.1/99",
      "10.0.0.0/33",
      "::1/129",
      "10.0.0.0/255.0.255.0",
      "proxy.example",
      "1.2.3.4/8/8",
    ])
      expect(problemsOf({ TRUST_PROXY: value })).toEqual([expect.stringMatching(/^TRUST_PROXY: must be true, false/)]);
  });

  test("a URL the server calls or prints is http(s), not any scheme", () => {
    expect(
      problemsOf({
        TELEGRAM_API_URL: "ftp://telegram.example",
        CAPTCHA_API_URL: "file:///etc/passwd",
        PUBLIC_URL: "javascript:alert(1)",
        MOCK_PAYMENTS_PROVIDER_URL: "gopher://127.0.0.1:70",
      }).sort(),
    ).toEqual([
      "CAPTCHA_API_URL: must be an http(s) URL",
      "MOCK_PAYMENTS_PROVIDER_URL: must be an http(s) URL",
      "PUBLIC_URL: must be an http(s) URL",
      "TELEGRAM_API_URL: must be an http(s) URL",
    ]);
  });

  test("malformed URLs are named", () => {
    expect(
      problemsOf({
        DATABASE_URL: "mysql://x",
        DATABASE_AUTHENTICATOR_URL: "postgres://a@b/c",
        PUBLIC_URL: "not a url",
      }),
    ).toEqual(
      expect.arrayContaining([expect.stringMatching(/^DATABASE_URL: /), expect.stringMatching(/^PUBLIC_URL: /)]),
    );
  });
});

describe("a command started where it cannot run", () => {
  let db: TestDatabase;
  let holder: Server;
  beforeAll(async () => {
    db = await createTestDatabase();
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => holder.close(resolve));
    await db.drop();
  });

  /** server.ts on the test database and a free port, with `env` on top. */
  const serverWith = async (env: Record<string, string>) =>
    spawnEntryPoint("server.ts", {
      PORT: String(await freePort()),
      DATABASE_URL: db.urls.ownerUrl,
      DATABASE_AUTHENTICATOR_URL: db.urls.authenticatorUrl,
      LOG_LEVEL: "warn",
      ...env,
    });

  const runWith = (
    command: string,
    urls: { ownerUrl: string; authenticatorUrl: string },
    args: string[] = [],
    env: Record<string, string> = {},
  ) =>
    spawnSync(process.execPath, [join(projectRoot, "src", "cli", command), ...args], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: urls.ownerUrl,
        DATABASE_AUTHENTICATOR_URL: urls.authenticatorUrl,
        PORT: "0",
        LOG_LEVEL: "silent",
        ...env,
      },
      encoding: "utf8",
      timeout: 30_000,
    });

  test.each([["migrate.ts"], ["server.ts"], ["worker.ts"], ["seed.ts"], ["init.ts", "--tenant", "acme"]])(
    "%s with a database that does not answer: one DATABASE_UNREACHABLE line, no stack trace, exit 1",
    async (command, ...args) => {
      const closed = `postgres://tessera:x@127.0.0.1:${await freePort()}/tessera`;
      const result = runWith(command, { ownerUrl: closed, authenticatorUrl: closed }, args);
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/^DATABASE_UNREACHABLE: Cannot use the configured database: .*ECONNREFUSED.*\.\n$/);
    },
  );

  test.each([["migrate.ts"], ["server.ts"], ["seed.ts"], ["task.ts", "enqueue", "worker_heartbeat", "{}"]])(
    "%s with a database that never replies: DATABASE_UNREACHABLE after DATABASE_CONNECT_TIMEOUT_SECONDS, exit 1",
    async (command, ...args) => {
      // A port that accepts connections and never answers (as Redis does to PostgreSQL's greeting).
      const silent = createServer(() => {});
      await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
      try {
        const url = `postgres://tessera:x@127.0.0.1:${(silent.address() as AddressInfo).port}/tessera`;
        const result = runWith(command, { ownerUrl: url, authenticatorUrl: url }, args, {
          DATABASE_CONNECT_TIMEOUT_SECONDS: "1",
        });
        expect([result.status, result.stderr]).toEqual([
          1,
          "DATABASE_UNREACHABLE: Cannot use the configured database: " +
            "no answer within 1 s (DATABASE_CONNECT_TIMEOUT_SECONDS).\n",
        ]);
      } finally {
        silent.close();
      }
    },
  );

  test("a role the database refuses: one DATABASE_UNREACHABLE line naming the refusal, exit 1", () => {
    // A role that does not exist (a wrong password would pass a server that trusts local connections).
    const refused = new URL(db.urls.ownerUrl);
    refused.username = "no_such_owner";
    const result = runWith("migrate.ts", { ownerUrl: refused.href, authenticatorUrl: db.urls.authenticatorUrl });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^DATABASE_UNREACHABLE: .*no_such_owner.*\n$/);
  });

  test("a request role the database refuses stops the server at start, as the owner's would", async () => {
    // Fails on the code before the fix: the server listened, /ready said 503 and GraphQL blamed the client.
    const refused = new URL(db.urls.authenticatorUrl);
    refused.username = "no_such_role";
    const server = spawnEntryPoint("server.ts", {
      PORT: String(await freePort()),
      DATABASE_URL: db.urls.ownerUrl,
      DATABASE_AUTHENTICATOR_URL: refused.href,
      LOG_LEVEL: "warn",
    });
    expect(await server.exited).toBe(1);
    expect(server.output()).toMatch(/^DATABASE_UNREACHABLE: .*no_such_role.*\n$/);
  });

  test("an sslmode the server cannot give: one DATABASE_UNREACHABLE line", () => {
    const ssl = new URL(db.urls.ownerUrl);
    ssl.searchParams.set("sslmode", "require");
    const result = runWith("migrate.ts", { ownerUrl: ssl.href, authenticatorUrl: db.urls.authenticatorUrl });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^DATABASE_UNREACHABLE: .*SSL.*\n$/m);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  test("a PORT another process holds: one line saying what to do, no stack trace, exit 1", async () => {
    const port = (holder.address() as AddressInfo).port;
    const server = spawnEntryPoint("server.ts", {
      PORT: String(port),
      DATABASE_URL: db.urls.ownerUrl,
      DATABASE_AUTHENTICATOR_URL: db.urls.authenticatorUrl,
      LOG_LEVEL: "warn",
    });
    expect(await server.exited).toBe(1);
    expect(server.output()).toBe(`PORT ${port} is in use by another process: stop it, or set PORT to another port.\n`);
  });

  test.each([
    ["under a file", "ENOTDIR"],
    // Node's own recursive mkdir spun at 100 % CPU for ever there.
    ["under /proc", "ENOENT"],
  ])("an IMAGE_UPLOAD_PATH that cannot be written (%s): one line naming it, exit 1", async (where, reason) => {
    const file = join(mkdtempSync(join(tmpdir(), "tessera-upload-")), "a-file");
    writeFileSync(file, "not a directory");
    const path = where === "under a file" ? join(file, "images") : `/proc/tessera-${process.pid}/images`;
    const server = await serverWith({ IMAGE_UPLOAD_PATH: path });
    expect(await server.exited).toBe(1);
    expect(server.output()).toBe(
      `IMAGE_UPLOAD_PATH: ${join(path, "tmp")} cannot be written to (${reason}): ` +
        "set IMAGE_UPLOAD_PATH to a writable directory.\n",
    );
    rmSync(dirname(file), { recursive: true, force: true });
  });

  test("a GRAPHQL_PERSISTED_OPERATIONS_DIR that cannot be read: one line naming it, exit 1", async () => {
    const missing = join(tmpdir(), `tessera-no-operations-${process.pid}`);
    const server = await serverWith({ GRAPHQL_PERSISTED_OPERATIONS_DIR: missing });
    expect(await server.exited).toBe(1);
    expect(server.output()).toBe(
      `GRAPHQL_PERSISTED_OPERATIONS_DIR: ${missing} cannot be read (ENOENT): ` +
        "set GRAPHQL_PERSISTED_OPERATIONS_DIR to a directory of <hash>.graphql files.\n",
    );
  });

  test("a persisted operation that is no GraphQL stops the start, naming its file and the error", async () => {
    // Fails on the code before the fix: the server started and refused each request that named it.
    const dir = mkdtempSync(join(tmpdir(), "tessera-operations-"));
    try {
      writeFileSync(join(dir, "good.graphql"), "query Good { __typename }");
      writeFileSync(join(dir, "broken.graphql"), "query Broken { __typename");
      const server = await serverWith({ GRAPHQL_PERSISTED_OPERATIONS_DIR: dir });
      expect(await server.exited).toBe(1);
      expect(server.output()).toBe(
        `GRAPHQL_PERSISTED_OPERATIONS_DIR: ${join(dir, "broken.graphql")} is not a GraphQL document at 1:26: ` +
          "Syntax Error: Expected Name, found <EOF>.\n",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("PORT=0: the server listens on a free port, named by the banner and the payment webhooks", async () => {
    const start = spawnEntryPoint("start.ts", {
      PORT: "0",
      DATABASE_URL: db.urls.ownerUrl,
      DATABASE_AUTHENTICATOR_URL: db.urls.authenticatorUrl,
      LOG_LEVEL: "warn",
    });
    try {
      const ready = () => /Ready\s+http:\/\/localhost:(\d+)\/ready/.exec(start.output());
      await until(() => ready() !== null, "the banner", 90_000);
      const port = Number(ready()![1]);
      expect(port).toBeGreaterThan(0);
      expect(start.output()).toContain(`(webhooks to http://127.0.0.1:${port}/api/webhook/payments/mock)`);
      expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200);
    } finally {
      start.child.kill("SIGTERM");
      await start.exited;
    }
  }, 120_000);

  test("npm run mock:payments on a port another process holds, or with arguments: one line, exit 1", () => {
    const port = (holder.address() as AddressInfo).port;
    const run = (args: string[], env: Record<string, string> = {}) =>
      spawnSync(process.execPath, [join(projectRoot, "src", "cli", "mock-payments.ts"), ...args], {
        env: { PATH: process.env.PATH, MOCK_PAYMENTS_PORT: String(port), LOG_LEVEL: "silent", ...env },
        encoding: "utf8",
        timeout: 30_000,
      });
    const taken = run([]);
    expect([taken.status, taken.stderr]).toEqual([
      1,
      `MOCK_PAYMENTS_PORT ${port} is in use by another process: stop it, or set MOCK_PAYMENTS_PORT to another port.\n`,
    ]);
    const extra = run(["--port", "1"]);
    expect([extra.status, extra.stderr]).toEqual([
      1,
      "VALIDATION_FAILED: this command takes no arguments (given: --port 1).\n",
    ]);
    // Fails on the code before the fix: an ftp:// webhook address was taken.
    const ftp = run([], { MOCK_PAYMENTS_WEBHOOK_URL: "ftp://127.0.0.1/hook" });
    expect([ftp.status, ftp.stderr]).toEqual([1, "MOCK_PAYMENTS_WEBHOOK_URL: must be an http(s) URL\n"]);
  });

  test("an embedded cluster whose state file is missing or damaged: one line saying so, and the file kept", () => {
    // Fails on the code before the fix: a new password was written over the file, and the start failed
    // with a password error that named neither the file nor a way out.
    const dir = join(mkdtempSync(join(tmpdir(), "tessera-state-")), "pg");
    // Reachable by the postgres OS user when the tests run as root: otherwise the cluster would move to
    // a fallback directory (docs/operations.md) and this one would not be looked at.
    chmodSync(dirname(dir), 0o755);
    mkdirSync(dir);
    writeFileSync(join(dir, "PG_VERSION"), "18\n");
    for (const state of ['{"port":44401,"password":', undefined]) {
      if (state === undefined) rmSync(`${dir}.json`, { force: true });
      else writeFileSync(`${dir}.json`, state);
      const result = spawnSync(process.execPath, [join(projectRoot, "src", "cli", "migrate.ts")], {
        env: { PATH: process.env.PATH, EMBEDDED_DATABASE_DIR: dir, LOG_LEVEL: "silent" },
        encoding: "utf8",
        timeout: 30_000,
      });
      expect([result.status, result.stderr]).toEqual([
        1,
        `The embedded PostgreSQL in ${dir} was made with the password kept in ${dir}.json, which is missing ` +
          `or damaged: put that file back, or move ${dir} away to start a new cluster.\n`,
      ]);
      if (state !== undefined) expect(readFileSync(`${dir}.json`, "utf8")).toBe(state);
    }
    rmSync(dirname(dir), { recursive: true, force: true });
  });

  test("an EMBEDDED_DATABASE_DIR that cannot be a directory: one line naming it, before anything starts", () => {
    const file = join(mkdtempSync(join(tmpdir(), "tessera-embedded-")), "a-file");
    writeFileSync(file, "not a directory");
    for (const [dir, reason] of [
      [file, "ENOTDIR"],
      [join(file, "pg"), "ENOTDIR"],
      [`/proc/tessera-${process.pid}`, "ENOENT"],
    ] as const) {
      const result = spawnSync(process.execPath, [join(projectRoot, "src", "cli", "migrate.ts")], {
        env: { PATH: process.env.PATH, EMBEDDED_DATABASE_DIR: dir, LOG_LEVEL: "silent" },
        encoding: "utf8",
        timeout: 30_000,
      });
      expect([result.status, result.stderr]).toEqual([
        1,
        `EMBEDDED_DATABASE_DIR: ${dir} cannot be used (${reason}): set it to a directory this process can write.\n`,
      ]);
    }
    expect(readFileSync(file, "utf8")).toBe("not a directory");
    rmSync(dirname(file), { recursive: true, force: true });
  });
});

describe("a command started with bad configuration", () => {
  test("a .env saved with a byte order mark is refused, not read as if its first line were absent", () => {
    // Fails on the code before the check: Node reads the first name as "\uFEFFAPP_ENV", APP_ENV is
    // unset, and a production .env ran the development settings (open CORS, Ruru, introspection).
    const dir = mkdtempSync(join(tmpdir(), "tessera-bom-"));
    try {
      const envFile = join(dir, ".env");
      writeFileSync(envFile, "\uFEFFAPP_ENV=prod\nPORT=8123\n");
      const result = spawnSync(
        process.execPath,
        ["--env-file", envFile, join(projectRoot, "src", "cli", "server.ts")],
        { env: { PATH: process.env.PATH }, encoding: "utf8", timeout: 20_000 },
      );
      expect([result.status, result.stderr]).toEqual([
        1,
        "Invalid configuration:\n" +
          "  - APP_ENV: its name starts with a byte order mark (U+FEFF), so it is not read: " +
          "save the .env file as UTF-8 without a BOM\n",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each(["server.ts", "worker.ts", "migrate.ts"])(
    "%s prints one message naming every problem and exits 1",
    (command) => {
      const result = spawnSync(process.execPath, [join(projectRoot, "src", "cli", command)], {
        env: { PATH: process.env.PATH, PORT: "abc", APP_ENV: "prod", JWT_SECRET: "0123456789" },
        encoding: "utf8",
        timeout: 20_000,
      });
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/^Invalid configuration:\n/);
      expect(result.stderr).toContain("PORT:");
      expect(result.stderr).toContain("JWT_SECRET: must be at least 32 characters");
      expect(result.stdout).toBe("");
    },
  );
});
