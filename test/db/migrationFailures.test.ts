/**
 * `npm run migrate` (and every command that migrates, `npm start` among them) against a database in
 * a state it cannot fix: one `MIGRATION_FAILED: …` line and exit 1, never a stack trace, and the
 * database left as it was. `npm run db` (graphile-migrate's CLI) fails without stack traces too.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { projectRoot } from "../../src/platform/paths.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";

let db: TestDatabase;
beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(() => db.drop());

/** migrate.ts on the test database, with `env` on top: its exit code and standard error. */
const migrate = (env: Record<string, string> = {}) => run("migrate.ts", [], env);

/** A command on the test database, with `env` on top: its exit code and standard error. */
function run(script: string, args: string[], env: Record<string, string> = {}): Promise<[number | null, string]> {
  const child = spawn(process.execPath, [join(projectRoot, "src", "cli", script), ...args], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: db.urls.ownerUrl,
      DATABASE_AUTHENTICATOR_URL: db.urls.authenticatorUrl,
      LOG_LEVEL: "silent",
      ...env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on("close", (code) => resolve([code, stderr])));
}

const log = async () =>
  (await db.rootPool.query("select filename, hash from graphile_migrate.migrations order by filename")).rows;

test("a migration log that names a migration this code does not have (a newer version's) stops it", async () => {
  await db.rootPool.query(
    `insert into graphile_migrate.migrations (filename, hash, previous_hash, date)
     select '999998.sql', 'sha1:${"f".repeat(40)}', hash, now()
     from graphile_migrate.migrations order by filename desc limit 1`,
  );
  const before = await log();
  expect(await migrate()).toEqual([
    1,
    "MIGRATION_FAILED: The database has applied 999998.sql, which this code does not have: " +
      "a newer version migrated it. Run that version, or restore a backup made by this one.\n",
  ]);
  expect(await log()).toEqual(before);
});

test("seed and db:truncate migrate first: a newer version's database is refused, not seeded or emptied", async () => {
  // Fails on the code before: seed wrote the demo tenant into it, db:truncate emptied it.
  await db.rootPool.query(
    `insert into graphile_migrate.migrations (filename, hash, previous_hash, date)
     select '999998.sql', 'sha1:${"f".repeat(40)}', hash, now()
     from graphile_migrate.migrations order by filename desc limit 1`,
  );
  const tenants = async () => (await db.rootPool.query("select count(*)::int as n from app_public.tenants")).rows[0].n;
  await db.rootPool.query("insert into app_public.tenants (slug, name) values ('kept', 'Kept')");
  const refusal =
    "MIGRATION_FAILED: The database has applied 999998.sql, which this code does not have: " +
    "a newer version migrated it. Run that version, or restore a backup made by this one.\n";
  expect(await run("seed.ts", [])).toEqual([1, refusal]);
  expect(await run("truncate.ts", [])).toEqual([1, refusal]);
  expect(await tenants()).toBe(1);
});

test("task: a name of Object's prototype is an unknown command, not a crash", async () => {
  for (const name of ["__proto__", "constructor", "toString"]) {
    const [code, stderr] = await run("task.ts", [name]);
    expect([name, code, stderr.split("\n")[0]]).toEqual([name, 1, `VALIDATION_FAILED: Unknown command "${name}".`]);
  }
});

test("a damaged migration log: the database's refusal in one line", async () => {
  // The newest migration forgotten and the one before it given another hash: the log no longer chains.
  await db.rootPool.query(
    `with newest as (select filename from graphile_migrate.migrations order by filename desc limit 2)
     delete from graphile_migrate.migrations where filename = (select max(filename) from newest)`,
  );
  await db.rootPool.query(
    `update graphile_migrate.migrations set hash = 'sha1:${"0".repeat(40)}'
     where filename = (select max(filename) from graphile_migrate.migrations)`,
  );
  const before = await log();
  const [code, stderr] = await migrate();
  expect(code).toBe(1);
  expect(stderr).toMatch(/^MIGRATION_FAILED: Cannot apply the migrations: .* \(SQLSTATE [0-9A-Z]{5}\)\.\n$/);
  expect(await log()).toEqual(before);
});

test("a ROOT_DATABASE_URL that is not a superuser's: what it may not do, in one line", async () => {
  const [code, stderr] = await migrate({ ROOT_DATABASE_URL: db.urls.ownerUrl });
  expect(code).toBe(1);
  expect(stderr).toMatch(
    new RegExp(
      "^MIGRATION_FAILED: Cannot create the roles and database with ROOT_DATABASE_URL: " +
        ".*(superuser|permission denied).* \\(SQLSTATE 42501\\)\\.\n$",
    ),
  );
});

test("no CONNECT privilege on the database is DATABASE_UNREACHABLE, as a refused password is", async () => {
  const owner = decodeURIComponent(new URL(db.urls.ownerUrl).username);
  await db.rootPool.query(`revoke connect on database ${db.name} from public, ${owner}`);
  expect(await migrate()).toEqual([
    1,
    `DATABASE_UNREACHABLE: Cannot use the configured database: permission denied for database "${db.name}".\n`,
  ]);
});

describe("npm run db", () => {
  test("a command that needs the shadow database, without SHADOW_DATABASE_URL: one line, first", async () => {
    for (const command of [["status"], ["commit", "-m", "x"], ["uncommit"]]) {
      expect(await run("db.ts", command)).toEqual([
        1,
        `VALIDATION_FAILED: \`npm run db -- ${command[0]}\` needs SHADOW_DATABASE_URL: ` +
          "graphile-migrate checks the migrations in a shadow database.\n",
      ]);
    }
  });

  test("a shadow database that never replies: DATABASE_UNREACHABLE after the connect timeout, not a hang", async () => {
    // It keeps what it accepts open, so the socket is destroyed afterwards: left open, it kept the
    // jest worker alive after the run, which then had to be killed.
    const accepted: Socket[] = [];
    const silent = createServer((socket) => void accepted.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const shadow = `postgres://tessera:x@127.0.0.1:${(silent.address() as AddressInfo).port}/shadow`;
      expect(
        await run("db.ts", ["status"], { SHADOW_DATABASE_URL: shadow, DATABASE_CONNECT_TIMEOUT_SECONDS: "1" }),
      ).toEqual([
        1,
        "DATABASE_UNREACHABLE: Cannot use the configured database: " +
          "no answer within 1 s (DATABASE_CONNECT_TIMEOUT_SECONDS).\n",
      ]);
    } finally {
      for (const socket of accepted) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  // A test each: every case is a process of its own, and seven in one test came near its 60 s bound
  // when two suites shared the two cores.
  describe("an unreadable file to run or compile, an unknown command: one line; a bad statement: its message", () => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-db-run-"));
    const missing = join(dir, "missing.sql");
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    // `compile` takes a file as `run` does; a command graphile-migrate does not have is one line too.
    test.each([
      ["run, a missing file", ["run", missing], `VALIDATION_FAILED: ${missing} cannot be read (ENOENT).\n`],
      ["run, a directory", ["run", dir], `VALIDATION_FAILED: ${dir} is not a file.\n`],
      ["run, no file", ["run"], "VALIDATION_FAILED: Usage: npm run db -- run <file.sql> (a file of SQL).\n"],
      ["compile, a missing file", ["compile", missing], `VALIDATION_FAILED: ${missing} cannot be read (ENOENT).\n`],
      ["compile, a directory", ["compile", dir], `VALIDATION_FAILED: ${dir} is not a file.\n`],
      [
        "an option the command does not have",
        ["migrate", "--bogus"],
        "VALIDATION_FAILED: `npm run db -- migrate` takes --help, --shadow, --forceActions; " +
          '"--bogus" is none of them.\n',
      ],
      [
        "an argument the command does not take",
        ["watch", "--once", "extra"],
        "VALIDATION_FAILED: `npm run db -- watch` takes --help, --once, --shadow; " + 'it does not take "extra".\n',
      ],
      [
        "an option without its value",
        ["commit", "-m"],
        "VALIDATION_FAILED: `npm run db -- commit` takes --help, --message, -m; -m needs a value.\n",
      ],
      [
        "another configuration file",
        ["status", "--config", "/nonexistent"],
        'VALIDATION_FAILED: `npm run db -- status` takes --help, --skipDatabase; "--config" is none of them.\n',
      ],
      [
        "a flag given something other than true or false",
        ["watch", "--once=maybe"],
        "VALIDATION_FAILED: `npm run db -- watch` takes --help, --once, --shadow; " +
          "--once=maybe: a flag is true or false.\n",
      ],
      ...[["bogus"], [], ["--bogus"]].map((args): [string, string[], string] => [
        args.length ? `an unknown command (${args[0]})` : "no command",
        args,
        "VALIDATION_FAILED: Usage: npm run db -- <init|migrate|watch|commit|uncommit|reset|status|compile|run> " +
          "[options] (graphile-migrate's commands).\n",
      ]),
    ])("%s", async (_title, args, message) => {
      expect(await run("db.ts", args)).toEqual([1, message]);
    });

    test("a statement that fails: its message, no stack", async () => {
      const failing = join(dir, "failing.sql");
      writeFileSync(failing, "select 1 / 0;\n");
      const [code, stderr] = await run("db.ts", ["run", failing]);
      expect(code).toBe(1);
      expect(stderr).toContain("division by zero");
      expect(stderr).not.toMatch(/^\s+at \S/m);
      // Its last line names the failure by its code, as every other command's refusal does.
      expect(stderr).toMatch(/\nMIGRATION_FAILED: graphile-migrate run failed \(its message is above\)\.\n$/);
    });
  });
});

test("commands migrating at once wait for each other: none fails on graphile-migrate's lock", async () => {
  // Fails on the code before the fix, most runs: graphile-migrate only tries its lock, and a command
  // migrating while another did stopped with "MIGRATION_FAILED: … Failed to get exclusive lock".
  const runs = await Promise.all(Array.from({ length: 4 }, () => migrate()));
  expect(runs).toEqual(Array.from({ length: 4 }, () => [0, ""]));
});
