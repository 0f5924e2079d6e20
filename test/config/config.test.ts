import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { loadConfig } from "../../src/modules/index.ts";
import { projectRoot } from "../../src/platform/paths.ts";
import { problemsOf } from "../helpers/config.ts";

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

describe("a command started with bad configuration", () => {
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
