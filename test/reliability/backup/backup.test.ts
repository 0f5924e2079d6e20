/**
 * Backups as an operator takes them: `npm run task -- backup` and `restore` run as child processes.
 *
 * A database with rows in every app_public table (the demo seed, then the rest) and jobs in the
 * queue is backed up and restored into a fresh database; the restored database holds exactly the
 * same rows in every table of every schema of ours (graphile_worker's queue and graphile_migrate's
 * log included), the same sequences, owners, grants and policies, and a server on it is ready,
 * signs the demo owner in, shows them their tenant only, and refuses the member what the member
 * may not do. `--clean` puts a changed database back as it was.
 *
 * Every refusal has its documented code, exit code 1, and leaves no file or no restored object:
 * a missing, damaged or cut file, a database that is not empty, a backup whose roles are not this
 * configuration's, a database that cannot be reached, no pg_dump of the server's version.
 *
 * The server is one whose pg_dump and pg_restore are installed (./server.ts): on this machine the
 * local PostgreSQL 15 when the run's server is the embedded PostgreSQL 18, which ships none.
 */
import { execFile, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { DEMO_PASSWORD } from "../../../src/modules/identity/accounts.ts";
import { loadConfig, MODULES } from "../../../src/modules/index.ts";
import type { DatabaseUrls } from "../../../src/platform/config.ts";
import { createLogger } from "../../../src/platform/logger.ts";
import { dataDir, projectRoot } from "../../../src/platform/paths.ts";
import { createTesseraServer } from "../../../src/platform/server.ts";
import type { GraphQLBody } from "../../helpers/app.ts";
import { TEST_JWT_SECRET } from "../../helpers/fixtures.ts";
import { freePort } from "../../helpers/process.ts";
import { until } from "../../helpers/wait.ts";
import { type Filled, fillDatabase } from "./fill.ts";
import { type BackupDatabase, type BackupServer, backupServer, createBackupDatabase } from "./server.ts";
import { type Snapshot, snapshot, tableRows } from "./snapshot.ts";

interface TaskRun {
  status: number;
  stdout: string;
  stderr: string;
}

/** A command's environment: its database's configuration, as in production. */
const taskEnvironment = (urls: DatabaseUrls) => ({
  PATH: process.env.PATH,
  DATABASE_URL: urls.ownerUrl,
  DATABASE_AUTHENTICATOR_URL: urls.authenticatorUrl,
  LOG_LEVEL: "silent",
});

/** `npm run task -- <args>` against a database (its configuration from the environment, as in production). */
function task(args: string[], urls: DatabaseUrls, env: Record<string, string> = {}): Promise<TaskRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(projectRoot, "src", "cli", "task.ts"), ...args],
      {
        env: { ...taskEnvironment(urls), ...env },
        encoding: "utf8",
        timeout: 120_000,
      },
      (error, stdout, stderr) => {
        const status = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ status, stdout, stderr });
      },
    );
  });
}

/** The refusal a task printed: `CODE: message` on stderr and exit code 1. */
function refusal(run: TaskRun): { status: number; code: string | undefined } {
  return { status: run.status, code: /^([A-Z_]+): /.exec(run.stderr)?.[1] };
}

/** The unfinished backups (`*.partial`) and their checksums (`*.partial.sha256`) left in a directory. */
const partialsIn = (where: string) => readdirSync(where).filter((name) => /\.partial(\.sha256)?$/.test(name));

/** The line `sha256sum` writes for a file, naming it as `name`. */
const checksumLine = (file: string, name: string) =>
  `${createHash("sha256").update(readFileSync(file)).digest("hex")}  ${name}\n`;

/** A failure bound for tests that run the command a few times: each run boots Tessera's modules. */
const SLOW = 180_000;

let server: BackupServer;
let source: BackupDatabase;
let filled: Filled;
let before: Snapshot;
let backupFile: string;
const dir = mkdtempSync(join(tmpdir(), "tessera-backup-"));
const databases: BackupDatabase[] = [];

async function emptyDatabase(): Promise<BackupDatabase> {
  const db = await createBackupDatabase(server, { migrated: false });
  databases.push(db);
  return db;
}

/** The schemas of a database other than `public` (none in an empty one). */
async function schemasOf(db: BackupDatabase): Promise<string[]> {
  const { rows } = await db.rootPool.query<{ nspname: string }>(
    "select nspname from pg_namespace where nspname !~ '^pg_' and nspname not in ('information_schema', 'public')",
  );
  return rows.map((row) => row.nspname);
}

beforeAll(async () => {
  server = await backupServer();
  process.stdout.write(`backup tests on PostgreSQL ${server.version} at ${new URL(server.rootUrl).host}\n`);
  source = await createBackupDatabase(server, { migrated: true });
  databases.push(source);
  filled = await fillDatabase(source.ownerPool);
  before = await snapshot(source.rootPool);
  backupFile = join(dir, "tessera.dump");
  const backup = await task(["backup", backupFile], source.urls);
  expect([backup.status, backup.stderr]).toEqual([0, ""]);
}, SLOW);

afterAll(async () => {
  await Promise.all(databases.map((db) => db.drop()));
  rmSync(dir, { recursive: true, force: true });
});

test("the source has rows in every app_public table and jobs in the queue", () => {
  const empty = Object.entries(before.rows).filter(([name, rows]) => name.startsWith("app_public.") && !rows.length);
  expect(empty.map(([name]) => name)).toEqual([]);
  expect(before.rows["graphile_worker._private_jobs"]!.length).toBeGreaterThanOrEqual(4);
  expect(before.rows["graphile_migrate.migrations"]!.length).toBeGreaterThan(0);
});

test("the backup file is readable by its owner only, its SHA-256 beside it as sha256sum writes it", () => {
  expect(statSync(backupFile).mode & 0o777).toBe(0o600);
  expect(readFileSync(`${backupFile}.sha256`, "utf8")).toBe(checksumLine(backupFile, "tessera.dump"));
  expect(partialsIn(dir)).toEqual([]);
});

test(
  "a restore into a fresh database holds every row, sequence, owner, grant and policy of the source",
  async () => {
    const target = await emptyDatabase();
    const restored = await task(["restore", backupFile], target.urls);
    expect([restored.status, restored.stderr]).toEqual([0, ""]);
    expect(restored.stdout).toMatch(/^restored .* into database tessera_backup_\w+ .*last migration: \d+/);

    const after = await snapshot(target.rootPool);
    expect(Object.keys(after.rows)).toEqual(Object.keys(before.rows));
    expect(after.rows).toEqual(before.rows);
    expect(after.sequences).toEqual(before.sequences);
    expect(after.catalog).toEqual(before.catalog);
  },
  SLOW,
);

test(
  "a server on the restored database is ready, and its grants and row-level security hold",
  async () => {
    const target = await emptyDatabase();
    expect((await task(["restore", backupFile], target.urls)).status).toBe(0);
    const config = { ...loadConfig({ APP_ENV: "test", JWT_SECRET: TEST_JWT_SECRET }), database: target.urls };
    const app = await createTesseraServer({
      modules: MODULES,
      config,
      database: target.urls,
      logger: createLogger("silent"),
    });
    await new Promise<void>((resolve) => app.httpServer.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(app.httpServer.address() as AddressInfo).port}`;
    try {
      // /ready: the database answers and every committed migration is applied (graphile_migrate restored).
      expect((await fetch(`${url}/ready`)).status).toBe(200);
      const signIn = async (login: string) => {
        const response = await fetch(`${url}/api/auth/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ tenant: "demo", login, password: DEMO_PASSWORD }),
        });
        expect(response.status).toBe(200);
        return ((await response.json()) as { accessToken: string }).accessToken;
      };
      const graphql = async (token: string, query: string) =>
        (await fetch(`${url}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify({ query }),
        }).then((response) => response.json())) as GraphQLBody;

      const owner = await signIn("owner@demo.test");
      const seen = await graphql(
        owner,
        "{ currentUser { email } users { nodes { email } } chats { nodes { title } } }",
      );
      expect(seen.errors).toBeUndefined();
      expect(seen.data!.currentUser).toEqual({ email: "owner@demo.test" });
      const emails = (seen.data!.users as { nodes: Array<{ email: string }> }).nodes.map((node) => node.email);
      expect(emails).toEqual(expect.arrayContaining(["owner@demo.test", "member@demo.test"]));
      expect(emails).not.toContain(filled.stranger.email);
      expect(seen.data!.chats).toEqual({ nodes: [{ title: "Backup crew" }] });

      const member = await signIn("member@demo.test");
      const refused = await graphql(member, "{ failedJobs { totalCount } }");
      expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    } finally {
      await app.close();
    }
  },
  SLOW,
);

test(
  "--clean puts a changed database back as the backup has it, in one transaction",
  async () => {
    const target = await emptyDatabase();
    expect((await task(["restore", backupFile], target.urls)).status).toBe(0);
    await target.ownerPool.query("delete from app_public.event_participants");
    await target.ownerPool.query("update app_public.tenants set name = 'Changed after the backup'");

    const cleaned = await task(["restore", backupFile, "--clean"], target.urls);
    expect([cleaned.status, cleaned.stderr]).toEqual([0, ""]);
    expect(await tableRows(target.rootPool)).toEqual(before.rows);

    // An object the backup does not have (a newer migration's table): the drop fails, nothing changes.
    await target.ownerPool.query("create table app_public.newer (id int); insert into app_public.newer values (1)");
    await target.ownerPool.query("delete from app_public.event_participants");
    const refused = await task(["restore", backupFile, "--clean"], target.urls);
    expect(refusal(refused)).toEqual({ status: 1, code: "RESTORE_TARGET_NOT_EMPTY" });
    const { rows } = await target.ownerPool.query(
      "select (select count(*) from app_public.newer)::int as newer, " +
        "(select count(*) from app_public.event_participants)::int as participants",
    );
    expect(rows[0]).toEqual({ newer: 1, participants: 0 });
  },
  SLOW,
);

test(
  "a backup named with a line break and a backslash: its checksum line is escaped as sha256sum escapes it",
  async () => {
    // Fails on the code that wrote the name as it is: `sha256sum -c` called the line improperly formatted.
    const odd = join(dir, "odd\nname\\here.dump");
    const made = await task(["backup", odd], source.urls);
    expect([made.status, made.stderr]).toEqual([0, ""]);
    const digest = createHash("sha256").update(readFileSync(odd)).digest("hex");
    expect(readFileSync(`${odd}.sha256`, "utf8")).toBe(`\\${digest}  odd\\nname\\\\here.dump\n`);
    const checked = spawnSync("sha256sum", ["-c", basename(`${odd}.sha256`)], { cwd: dir, encoding: "utf8" });
    expect([checked.status, checked.stderr]).toEqual([0, ""]);
    // restore reads it too: what it finds wrong first is the database, not the checksum.
    expect(refusal(await task(["restore", odd], source.urls))).toEqual({ status: 1, code: "RESTORE_TARGET_NOT_EMPTY" });
  },
  SLOW,
);

test(
  "a database that is not empty is refused without --clean, and keeps its rows",
  async () => {
    const other = await task(["restore", backupFile], source.urls);
    expect(refusal(other)).toEqual({ status: 1, code: "RESTORE_TARGET_NOT_EMPTY" });
    expect(other.stderr).toMatch(/pass --clean/);
    expect(await tableRows(source.rootPool)).toEqual(before.rows);
  },
  SLOW,
);

test(
  "a missing, damaged or cut file is refused before anything is restored",
  async () => {
    const target = await emptyDatabase();
    const missing = await task(["restore", join(dir, "no-such.dump")], target.urls);
    expect(refusal(missing)).toEqual({ status: 1, code: "NOT_FOUND" });

    // A readable archive of another database is not taken either, even with --clean.
    const foreign = await emptyDatabase();
    await foreign.ownerPool.query("create table public.foo (id int primary key)");
    const foreignFile = join(dir, "foreign.dump");
    expect(refusal(await task(["backup", foreignFile], foreign.urls))).toEqual({ status: 0, code: undefined });
    const schemasBefore = await schemasOf(source);
    const notOurs = await task(["restore", foreignFile, "--clean"], source.urls);
    expect(refusal(notOurs)).toEqual({ status: 1, code: "BACKUP_FILE_INVALID" });
    expect(notOurs.stderr).toContain("is not a backup of a Tessera database: it holds no app_public or app_private");
    expect(await schemasOf(source)).toEqual(schemasBefore);
    const { rows } = await source.rootPool.query("select to_regclass('public.foo') as foo");
    expect(rows).toEqual([{ foo: null }]);

    const garbage = join(dir, "garbage.dump");
    writeFileSync(garbage, "this is not a backup\n".repeat(100));
    expect(refusal(await task(["restore", garbage], target.urls))).toEqual({ status: 1, code: "BACKUP_FILE_INVALID" });

    const whole = readFileSync(backupFile);
    // One byte changed in the middle, with the checksum the backup wrote: refused by the checksum,
    // whatever pg_restore would have made of it. A checksum file that is not one is refused too.
    const flipped = join(dir, "flipped.dump");
    const copy = Buffer.from(whole);
    copy[Math.floor(copy.length / 2)]! ^= 0x01;
    writeFileSync(flipped, copy);
    writeFileSync(`${flipped}.sha256`, checksumLine(backupFile, "flipped.dump"));
    const damaged = await task(["restore", flipped, "--clean"], source.urls);
    expect(refusal(damaged)).toEqual({ status: 1, code: "BACKUP_FILE_INVALID" });
    expect(damaged.stderr).toContain(`${flipped} does not match its checksum in ${flipped}.sha256`);
    writeFileSync(`${flipped}.sha256`, "not a checksum\n");
    expect(refusal(await task(["restore", flipped], target.urls))).toEqual({ status: 1, code: "BACKUP_FILE_INVALID" });
    // A checksum "file" that is a directory: refused in one line, as an unreadable one.
    const beside = join(dir, "beside.dump");
    writeFileSync(beside, whole);
    mkdirSync(`${beside}.sha256`);
    const unreadable = await task(["restore", beside], target.urls);
    expect([refusal(unreadable), unreadable.stderr]).toEqual([
      { status: 1, code: "BACKUP_FILE_INVALID" },
      `BACKUP_FILE_INVALID: ${beside}.sha256 cannot be read (EISDIR).\n`,
    ]);
    expect(await snapshot(source.rootPool)).toEqual(before);

    for (const fraction of [0.5, 0.95]) {
      const cut = join(dir, `cut-${fraction}.dump`);
      writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * fraction)));
      const run = await task(["restore", cut], target.urls);
      expect({ fraction, ...refusal(run) }).toEqual({ fraction, status: 1, code: "BACKUP_FILE_INVALID" });
    }
    expect(await schemasOf(target)).toEqual([]);
  },
  SLOW,
);

test(
  "a backup whose roles are not this configuration's is refused before anything is restored",
  async () => {
    const target = await emptyDatabase();
    // The same server, but a configuration whose request role is another one: the backup's grants
    // and policies name tessera_test_visitor, which the restored API would never run as.
    const run = await task(["restore", backupFile], target.urls, { DATABASE_VISITOR: "tessera_other_visitor" });
    expect(refusal(run)).toEqual({ status: 1, code: "RESTORE_ROLES_MISMATCH" });
    expect(run.stderr).toContain("tessera_test_visitor");
    expect(await schemasOf(target)).toEqual([]);
  },
  SLOW,
);

test(
  "a database that cannot be reached is DATABASE_UNREACHABLE, and no backup file is written",
  async () => {
    const url = new URL(source.urls.ownerUrl);
    url.pathname = "/tessera_backup_no_such_database";
    const wrong = { ...source.urls, ownerUrl: url.toString() };
    const file = join(dir, "unreachable.dump");
    expect(refusal(await task(["backup", file], wrong))).toEqual({ status: 1, code: "DATABASE_UNREACHABLE" });
    expect(existsSync(file)).toBe(false);
    expect(partialsIn(dir)).toEqual([]);
    expect(refusal(await task(["restore", backupFile], wrong))).toEqual({ status: 1, code: "DATABASE_UNREACHABLE" });

    url.pathname = `/${source.name}`;
    url.port = String(await freePort());
    const closedPort = { ...source.urls, ownerUrl: url.toString() };
    expect(refusal(await task(["backup", file], closedPort))).toEqual({ status: 1, code: "DATABASE_UNREACHABLE" });
    expect(existsSync(file)).toBe(false);
  },
  SLOW,
);

test(
  "two backups to one new file at once: one writes it, the other is CONFLICT; an unmakeable file is BACKUP_FAILED",
  async () => {
    const file = join(dir, "twice.dump");
    // Someone else's file that happens to bear the old fixed name of an unfinished backup is left alone.
    writeFileSync(`${file}.partial`, "not ours");
    const runs = await Promise.all([task(["backup", file], source.urls), task(["backup", file], source.urls)]);
    expect(runs.map((run) => refusal(run)).sort((a, b) => a.status - b.status)).toEqual([
      { status: 0, code: undefined },
      { status: 1, code: "CONFLICT" },
    ]);
    expect(readFileSync(`${file}.partial`, "utf8")).toBe("not ours");
    rmSync(`${file}.partial`);
    expect(partialsIn(dir)).toEqual([]);
    const restored = await emptyDatabase();
    expect(refusal(await task(["restore", file], restored.urls))).toEqual({ status: 0, code: undefined });

    // Where the checksum cannot be written (a directory holds its name), there is no backup either.
    const blocked = join(dir, "blocked.dump");
    mkdirSync(join(`${blocked}.sha256`, "sub"), { recursive: true });
    const noChecksum = await task(["backup", blocked], source.urls);
    expect([refusal(noChecksum), noChecksum.stderr]).toEqual([
      { status: 1, code: "BACKUP_FAILED" },
      `BACKUP_FAILED: ${blocked}.sha256 cannot be written (EISDIR); no backup was written.\n`,
    ]);
    expect([existsSync(blocked), partialsIn(dir)]).toEqual([false, []]);

    const nowhere = await task(["backup", "/proc/tessera-no-such-dir/x.dump"], source.urls);
    expect(refusal(nowhere)).toEqual({ status: 1, code: "BACKUP_FAILED" });
    expect(nowhere.stderr).toMatch(/^BACKUP_FAILED: .*\(ENOENT\); no backup was written\.\n$/);
  },
  SLOW,
);

/** How many connections a program has open to a database, or how many of them wait for a lock. */
async function programConnections(db: BackupDatabase, program: string, waiting: boolean): Promise<number> {
  const { rows } = await db.rootPool.query<{ n: number }>(
    "select count(*)::int as n from pg_stat_activity where datname = $1 and application_name = $2 " +
      "and ($3::boolean is false or wait_event_type = 'Lock')",
    [db.name, program, waiting],
  );
  return rows[0]!.n;
}

/**
 * A task run while another connection holds `lock` on a table of `db`: once `program` (pg_dump,
 * pg_restore) waits for it, the task gets SIGTERM; resolves when the task has ended by that signal
 * and the program's connections are gone, the lock still held.
 */
async function stoppedWhileWaiting(db: BackupDatabase, lock: string, program: string, args: string[]) {
  const holder = await db.ownerPool.connect();
  try {
    await holder.query("begin");
    await holder.query(lock);
    const child = spawn(process.execPath, [join(projectRoot, "src", "cli", "task.ts"), ...args], {
      env: taskEnvironment(db.urls),
      stdio: "ignore",
    });
    const ended = new Promise((resolve) => child.once("exit", (code, signal) => resolve(signal ?? code)));
    await until(
      async () => (await programConnections(db, program, true)) > 0,
      `${program} to wait for the lock`,
      60_000,
    );
    child.kill("SIGTERM");
    expect(await ended).toBe("SIGTERM");
    await until(async () => (await programConnections(db, program, false)) === 0, `${program} to end`);
  } finally {
    await holder.query("rollback");
    holder.release();
  }
}

test(
  "a backup stopped by SIGTERM while pg_dump waits for a lock ends pg_dump and leaves no file behind",
  async () => {
    const file = join(dir, "stopped.dump");
    await stoppedWhileWaiting(source, "lock table app_public.tenants in access exclusive mode", "pg_dump", [
      "backup",
      file,
    ]);
    expect([existsSync(file), existsSync(`${file}.sha256`), partialsIn(dir)]).toEqual([false, false, []]);
  },
  SLOW,
);

test(
  "a restore stopped by SIGTERM while pg_restore waits for a lock ends pg_restore: nothing is restored",
  async () => {
    const target = await emptyDatabase();
    expect((await task(["restore", backupFile], target.urls)).status).toBe(0);
    await target.ownerPool.query("update app_public.tenants set name = 'Changed after the backup'");
    const changed = await tableRows(target.rootPool);
    await stoppedWhileWaiting(target, "lock table app_public.tenants in access share mode", "pg_restore", [
      "restore",
      backupFile,
      "--clean",
    ]);
    expect(await tableRows(target.rootPool)).toEqual(changed);
  },
  SLOW,
);

test(
  "with no pg_dump of the server's major version, backup says which it needs and writes nothing",
  async () => {
    const bin = join(dir, "old-bin");
    rmSync(bin, { recursive: true, force: true });
    const empty = await task(["backup", join(dir, "none.dump")], source.urls, { BACKUP_PG_BIN_DIR: bin });
    expect(refusal(empty)).toEqual({ status: 1, code: "BACKUP_TOOL_MISSING" });

    // A pg_dump of another major version is found, and refused by name.
    mkdirSync(bin);
    for (const tool of ["pg_dump", "pg_restore"]) {
      writeFileSync(join(bin, tool), `#!/bin/sh\necho "${tool} (PostgreSQL) 9.6.24"\n`);
      chmodSync(join(bin, tool), 0o755);
    }
    const old = await task(["backup", join(dir, "old.dump")], source.urls, { BACKUP_PG_BIN_DIR: bin });
    expect(refusal(old)).toEqual({ status: 1, code: "BACKUP_TOOL_MISSING" });
    expect(old.stderr).toContain(`pg_dump 9 (${join(bin, "pg_dump")})`);
    expect(existsSync(join(dir, "old.dump"))).toBe(false);

    const target = await emptyDatabase();
    const restore = await task(["restore", backupFile], target.urls, { BACKUP_PG_BIN_DIR: bin });
    expect(refusal(restore)).toEqual({ status: 1, code: "BACKUP_TOOL_MISSING" });
    expect(await schemasOf(target)).toEqual([]);

    // A pg_dump of the right version that exits 0 having written nothing made no backup.
    const major = Number.parseInt(server.version, 10);
    writeFileSync(
      join(bin, "pg_dump"),
      `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "pg_dump (PostgreSQL) ${major}.0"; fi\nexit 0\n`,
    );
    const silent = await task(["backup", join(dir, "silent.dump")], source.urls, { BACKUP_PG_BIN_DIR: bin });
    expect(refusal(silent)).toEqual({ status: 1, code: "BACKUP_FAILED" });
    expect(existsSync(join(dir, "silent.dump"))).toBe(false);
    expect(partialsIn(dir)).toEqual([]);
  },
  SLOW,
);

test(
  "backup without a file writes a new timestamped one under .data/backups, and never overwrites",
  async () => {
    const run = await task(["backup"], source.urls);
    expect([run.status, run.stderr]).toEqual([0, ""]);
    const file = / written to (\S+) /.exec(run.stdout)?.[1];
    try {
      expect(file).toMatch(
        new RegExp(`^${dataDir}/backups/${source.name}-\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\dZ\\.dump$`),
      );
      expect(statSync(file!).size).toBeGreaterThan(0);
      expect(readFileSync(`${file}.sha256`, "utf8")).toBe(checksumLine(file!, basename(file!)));
    } finally {
      if (file) for (const written of [file, `${file}.sha256`]) rmSync(written, { force: true });
    }
    const again = await task(["backup", backupFile], source.urls);
    expect(refusal(again)).toEqual({ status: 1, code: "CONFLICT" });
    expect(refusal(await task(["backup", "a", "b"], source.urls))).toEqual({ status: 1, code: "VALIDATION_FAILED" });
    expect(refusal(await task(["restore"], source.urls))).toEqual({ status: 1, code: "VALIDATION_FAILED" });
  },
  SLOW,
);
