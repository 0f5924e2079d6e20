/**
 * `npm run task -- backup [file]` and `restore <file> [--clean]`: the whole database — our schemas,
 * graphile_worker's (the queue) and graphile_migrate's (which migrations it has) — as a pg_dump
 * custom-format archive, and back, in one transaction, as the owner role, keeping owners, grants and
 * policies (docs/operations.md, Backups).
 */
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  linkSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { devNull, tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import type pg from "pg";
import type { Command, CommandContext } from "../../platform/commands.ts";
import type { DatabaseUrls } from "../../platform/config.ts";
import { makeDirectorySync } from "../../platform/directories.ts";
import { AppError } from "../../platform/errors.ts";
import { errnoCode } from "../../platform/system.ts";
import { dataDir } from "../../platform/paths.ts";
import { operationsConfig } from "./config.ts";
import {
  connectionFor,
  findTool,
  firstError,
  type PgTool,
  runTool,
  searchDirectories,
  interruptible,
} from "./pgTools.ts";

export const backup: Command = {
  usage: "backup [file]",
  description: "Writes the database (every schema, the job queue) to a pg_dump file (default .data/backups/).",
  async run(context, args) {
    const [given, ...rest] = args;
    if (rest.length > 0 || given?.startsWith("-") || given?.trim() === "")
      throw new AppError("VALIDATION_FAILED", `Usage: ${backup.usage}`);
    const server = await serverOf(context.pool);
    const file = resolve(given ?? join(dataDir, "backups", `${server.database}-${timestamp()}.dump`));
    if (existsSync(file)) throw backupExists(file);
    const pgDump = await toolFor(context, "pg_dump", server);
    // The backup holds password hashes and sealed secrets: readable by its owner only. pg_dump
    // writes into a file of this run's own, made here (keeping its mode); it becomes the backup once
    // complete, by a link that fails rather than replace a file another run finished meanwhile.
    const partial = `${file}.${process.pid}-${randomBytes(4).toString("hex")}.partial`;
    try {
      makeDirectorySync(dirname(file), 0o700);
      writeFileSync(partial, "", { mode: 0o600, flag: "wx" });
    } catch (error) {
      throw new AppError("BACKUP_FAILED", `${file} cannot be written (${errnoCode(error)}); no backup was written.`);
    }
    const removePartials = () => {
      rmSync(partial, { force: true });
      rmSync(checksumFileOf(partial), { force: true });
    };
    // Interrupted (Ctrl-C, a stop), the run ends pg_dump and removes its partial files before it exits.
    await interruptible(() => dumpTo(file, partial, context, pgDump.path).finally(removePartials), removePartials);
    const kB = Math.ceil(statSync(file).size / 1024);
    context.print(
      `backup of database ${server.database} (PostgreSQL ${server.version}) written to ${file} (${kB} kB) ` +
        `by ${pgDump.path}; schemas: ${server.schemas.join(", ")}`,
    );
  },
};

const backupExists = (file: string) => new AppError("CONFLICT", `${file} exists; a backup never overwrites a file.`);

/**
 * pg_dump into `partial`, then the finished archive becomes `file` (by a link that fails rather than
 * replace a file another run finished meanwhile), its checksum beside it.
 */
async function dumpTo(file: string, partial: string, context: CommandContext, pgDump: string): Promise<void> {
  const { dbname, env } = connectionFor(context.urls.ownerUrl);
  const options = ["--format=custom", `--file=${partial}`, "--lock-wait-timeout=60000", "--no-password"];
  const result = await runTool(pgDump, [...options, `--dbname=${dbname}`], env);
  if (result.code !== 0) {
    throw new AppError("BACKUP_FAILED", `pg_dump failed, no backup was written: ${firstError(result.stderr)}`);
  }
  // A custom-format archive starts with "PGDMP": a pg_dump that exited 0 having written nothing
  // (or something else) made no backup.
  if (!startsWith(partial, "PGDMP")) {
    throw new AppError("BACKUP_FAILED", "pg_dump exited without writing an archive; no backup was written.");
  }
  // The checksum is made before the backup appears, and written beside it only by the run whose
  // link made the file: a checksum of another run's archive never names this one.
  const partialSum = checksumFileOf(partial);
  writeFileSync(partialSum, checksumLine(partial, file), { mode: 0o600, flag: "wx" });
  try {
    linkSync(partial, file);
  } catch (error) {
    if (errnoCode(error) === "EEXIST") throw backupExists(file);
    throw new AppError("BACKUP_FAILED", `${file} cannot be written (${errnoCode(error)}); no backup was written.`);
  }
  try {
    renameSync(partialSum, checksumFileOf(file));
  } catch (error) {
    // A backup is the archive and its checksum: without the second, the first is taken back.
    rmSync(file, { force: true });
    throw new AppError(
      "BACKUP_FAILED",
      `${checksumFileOf(file)} cannot be written (${errnoCode(error)}); no backup was written.`,
    );
  }
}

/** Where a backup's SHA-256 is written: `<file>.sha256`, as `sha256sum -c` reads it. */
const checksumFileOf = (file: string) => `${file}.sha256`;

/** A file's SHA-256, read a megabyte at a time: a backup may be far larger than the heap. */
function sha256Of(file: string): string {
  const hash = createHash("sha256");
  const chunk = Buffer.alloc(1 << 20);
  const fd = openSync(file, "r");
  try {
    for (let read = readSync(fd, chunk); read > 0; read = readSync(fd, chunk)) hash.update(chunk.subarray(0, read));
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}

/**
 * `<hex>  <name>`: the line `sha256sum` writes, naming the backup as it will be called. As GNU
 * sha256sum does, a name holding a backslash or a line break is escaped (`\\`, `\n`, `\r`) and
 * the line then starts with a backslash.
 */
function checksumLine(archive: string, file: string): string {
  const name = basename(file);
  const escaped = name.replace(/[\\\n\r]/g, (char) => ({ "\\": "\\\\", "\n": "\\n", "\r": "\\r" })[char]!);
  return `${escaped === name ? "" : "\\"}${sha256Of(archive)}  ${escaped}\n`;
}

/**
 * A backup's bytes against the checksum written beside it, when there is one (an archive pg_dump
 * wrote itself has none): a flipped byte that pg_restore would read without noticing is refused here.
 */
function verifyChecksum(file: string): void {
  const sumFile = checksumFileOf(file);
  if (!existsSync(sumFile)) return;
  let text: string;
  try {
    text = readFileSync(sumFile, "utf8");
  } catch (error) {
    throw new AppError("BACKUP_FILE_INVALID", `${sumFile} cannot be read (${errnoCode(error)}).`);
  }
  const expected = /^\\?([0-9a-f]{64}) [ *]/.exec(text)?.[1];
  if (!expected) throw new AppError("BACKUP_FILE_INVALID", `${sumFile} is not a SHA-256 checksum line.`);
  if (sha256Of(file) !== expected)
    throw new AppError("BACKUP_FILE_INVALID", `${file} does not match its checksum in ${sumFile}: it is damaged.`);
}

/** Whether a file's first bytes are `magic` (read without reading the rest). */
function startsWith(file: string, magic: string): boolean {
  const expected = Buffer.from(magic);
  const head = Buffer.alloc(expected.length);
  const fd = openSync(file, "r");
  try {
    return readSync(fd, head, 0, head.length, 0) === head.length && head.equals(expected);
  } finally {
    closeSync(fd);
  }
}

export const restore: Command = {
  usage: "restore <file> [--clean]",
  description: "Loads a backup in one transaction: into an empty database, or replacing what it holds (--clean).",
  async run(context, args) {
    const flags = args.filter((arg) => arg.startsWith("-"));
    const files = args.filter((arg) => !arg.startsWith("-"));
    if (files.length !== 1 || files[0]!.trim() === "" || flags.some((flag) => flag !== "--clean")) {
      throw new AppError("VALIDATION_FAILED", `Usage: ${restore.usage}`);
    }
    const clean = flags.includes("--clean");
    const file = resolve(files[0]!);
    if (!existsSync(file) || !statSync(file).isFile()) throw new AppError("NOT_FOUND", `No backup file at ${file}.`);
    const server = await serverOf(context.pool);
    const pgRestore = await toolFor(context, "pg_restore", server);
    verifyChecksum(file);
    const archive = await readArchive(pgRestore.path, file);
    await checkRoles(context, pgRestore.path, file, archive);
    if (!clean) await assertEmpty(context.pool, server.database);

    const { dbname, env } = connectionFor(context.urls.ownerUrl);
    // One transaction: a failure anywhere (or a killed process) leaves the database as it was.
    const cleanArgs = clean ? ["--clean", "--if-exists"] : [];
    // Stopped, it ends pg_restore too, whose transaction then rolls back: nothing is restored.
    const result = await interruptible(() =>
      runTool(pgRestore.path, ["--single-transaction", "--no-password", `--dbname=${dbname}`, ...cleanArgs, file], env),
    );
    if (result.code !== 0) throw restoreRefusal(result.stderr, clean);
    await context.pool.query("analyze");
    const migration = await lastMigration(context.pool);
    context.print(
      `restored ${file} (PostgreSQL ${archive.dumpedFrom}, ${archive.tables} tables) into database ` +
        `${server.database} by ${pgRestore.path}; last migration: ${migration ?? "none"}. ` +
        "Run `npm run migrate` to apply newer ones.",
    );
  },
};

interface ServerInfo {
  database: string;
  version: string;
  major: number;
  schemas: string[];
}

/** The configured database's server, or DATABASE_UNREACHABLE saying why it cannot be reached. */
async function serverOf(pool: pg.Pool): Promise<ServerInfo> {
  try {
    const { rows } = await pool.query<{ database: string; version: string; num: number; schemas: string[] }>(
      `select current_database() as database, current_setting('server_version') as version,
              current_setting('server_version_num')::int as num,
              array(select nspname::text from pg_namespace
                    where nspname !~ '^pg_' and nspname <> 'information_schema' order by 1) as schemas`,
    );
    const row = rows[0]!;
    return { database: row.database, version: row.version, major: Math.floor(row.num / 10000), schemas: row.schemas };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new AppError("DATABASE_UNREACHABLE", `Cannot use the database of DATABASE_URL: ${reason}.`, { cause: error });
  }
}

function toolFor(context: CommandContext, tool: PgTool, server: ServerInfo) {
  return findTool(tool, server, searchDirectories(operationsConfig.of(context.config).pgBinDir));
}

interface Archive {
  /** `pg_restore --list`: one line per entry, `<id>; <catalog> <oid> <kind> <schema> <name> <owner>`. */
  entries: string[];
  dumpedFrom: string;
  tables: number;
}

/** Schemas every backup of Tessera's holds: the application's and the migration log. */
const REQUIRED_SCHEMAS = ["app_public", "app_private", "graphile_migrate"];

/**
 * The archive's table of contents, after reading it whole: a damaged or cut file is refused here,
 * and so is an archive of another database.
 */
async function readArchive(pgRestore: string, file: string): Promise<Archive> {
  const list = await runTool(pgRestore, ["--list", file]);
  if (list.code !== 0) {
    throw new AppError(
      "BACKUP_FILE_INVALID",
      `${file} is not a backup pg_restore can read: ${firstError(list.stderr)}`,
    );
  }
  // --list reads only the header and the table of contents; the data comes after them.
  const whole = await runTool(pgRestore, [`--file=${devNull}`, file]);
  if (whole.code !== 0) {
    throw new AppError("BACKUP_FILE_INVALID", `${file} is incomplete or damaged: ${firstError(whole.stderr)}`);
  }
  const entries = list.stdout.split("\n").filter((line) => /^\d+; /.test(line));
  // A pg_dump archive of another database (or of only part of one) would be restored beside what
  // --clean leaves in place, and reported as done.
  const schemas = new Set(entries.map((line) => / SCHEMA - (\S+) /.exec(line)?.[1]));
  const missing = REQUIRED_SCHEMAS.filter((schema) => !schemas.has(schema));
  if (missing.length > 0) {
    throw new AppError(
      "BACKUP_FILE_INVALID",
      `${file} is not a backup of a Tessera database: it holds no ${missing.join(" or ")} schema.`,
    );
  }
  const dumpedFrom = /Dumped from database version: (.+)/.exec(list.stdout)?.[1]?.trim() ?? "unknown";
  const tables = entries.filter((line) => / TABLE DATA /.test(line)).length;
  return { entries, dumpedFrom, tables };
}

/**
 * Roles are the server's, not the database's: the backup's owners, grants and policies name the
 * source's owner, visitor, bot and authenticator roles, and restored as they are they must be the
 * roles this database's configuration uses (else the restore succeeds and requests fail on
 * permissions). Checked before anything is written.
 */
async function checkRoles(context: CommandContext, pgRestore: string, file: string, archive: Archive): Promise<void> {
  const named = new Set([...archive.entries.map(ownerOf), ...(await grantees(pgRestore, file, archive))]);
  const needed = [...named].filter((role) => role && role !== "PUBLIC" && !role.startsWith("pg_")).sort();
  const ours = configuredRoles(context.urls);
  const foreign = needed.filter((role) => !ours.includes(role));
  if (foreign.length > 0) {
    throw new AppError(
      "RESTORE_ROLES_MISMATCH",
      `The backup names the roles ${foreign.join(", ")}; this database's configuration uses ${ours.join(", ")}. ` +
        "Restore with the roles named as in the backup's configuration (the users of DATABASE_URL and " +
        "DATABASE_AUTHENTICATOR_URL, DATABASE_VISITOR, DATABASE_BOT).",
    );
  }
  const { rows } = await context.pool.query<{ rolname: string }>(
    "select rolname from pg_roles where rolname = any($1)",
    [needed],
  );
  const missing = needed.filter((role) => !rows.some((row) => row.rolname === role));
  if (missing.length > 0) {
    throw new AppError(
      "RESTORE_ROLES_MISMATCH",
      `The roles ${missing.join(", ")} do not exist on this server; create them first ` +
        "(`npm run migrate` with ROOT_DATABASE_URL does, or `npm run task -- restore` with it).",
    );
  }
}

/** The owner, visitor, bot and authenticator roles of this configuration. */
function configuredRoles(urls: DatabaseUrls): string[] {
  const user = (url: string) => decodeURIComponent(new URL(url).username);
  return [...new Set([user(urls.ownerUrl), user(urls.authenticatorUrl), urls.visitorRole, urls.botRole])].sort();
}

/** The last field of a table-of-contents line: the entry's owner (empty for extensions). */
function ownerOf(entry: string): string {
  return entry.slice(entry.lastIndexOf(" ") + 1);
}

const ROLE = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)`;
const ROLE_LIST = `${ROLE}(?:, ${ROLE})*`;
const GRANT_LINE = new RegExp(
  `^(?:GRANT|REVOKE|ALTER DEFAULT PRIVILEGES) .* (?:TO|FROM) (${ROLE_LIST})` +
    `(?: WITH GRANT OPTION)?(?: GRANTED BY (${ROLE}))?;$`,
);
const DEFAULTS_FOR = new RegExp(`^ALTER DEFAULT PRIVILEGES FOR ROLE (${ROLE}) `);
const POLICY_TO = new RegExp(`^CREATE POLICY .*? TO (${ROLE_LIST}) (?:USING|WITH CHECK)\\b`);

/** Every role the archive's grants, default privileges and policies name, read from their SQL. */
async function grantees(pgRestore: string, file: string, archive: Archive): Promise<string[]> {
  const wanted = archive.entries.filter((line) => /^\d+; \d+ \d+ (ACL|DEFAULT ACL|POLICY) /.test(line));
  if (wanted.length === 0) return [];
  const dir = mkdtempSync(join(tmpdir(), "tessera-restore-"));
  try {
    const listFile = join(dir, "list");
    writeFileSync(listFile, `${wanted.join("\n")}\n`);
    const sql = await runTool(pgRestore, ["--file=-", `--use-list=${listFile}`, file]);
    if (sql.code !== 0) {
      throw new AppError("BACKUP_FILE_INVALID", `${file} could not be read: ${firstError(sql.stderr)}`);
    }
    return sql.stdout.split("\n").flatMap((line) => {
      const match = GRANT_LINE.exec(line) ?? POLICY_TO.exec(line);
      const roles = match ? [...splitRoles(match[1]!), ...(match[2] ? splitRoles(match[2]) : [])] : [];
      const owner = DEFAULTS_FOR.exec(line)?.[1];
      return owner ? [...roles, ...splitRoles(owner)] : roles;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `a, "B""c"` → `a`, `B"c`; the unquoted keyword PUBLIC stays `PUBLIC`. */
function splitRoles(list: string): string[] {
  return [...list.matchAll(new RegExp(ROLE, "g"))].map(([name]) =>
    name.startsWith('"') ? name.slice(1, -1).replaceAll('""', '"') : name,
  );
}

const MEMBER_OF_EXTENSION = (catalog: string, oid: string) =>
  `exists (select from pg_depend where classid = '${catalog}'::regclass and objid = ${oid} and deptype = 'e')`;

/** Without --clean the target must hold nothing but an empty `public` schema. */
async function assertEmpty(pool: pg.Pool, database: string): Promise<void> {
  const { rows } = await pool.query<{ found: string[] }>(
    `select array(
       select what from (
         select 1 as rank, 'schema ' || nspname as what from pg_namespace
          where nspname !~ '^pg_' and nspname not in ('information_schema', 'public')
         union all select 2, 'extension ' || extname from pg_extension where extname <> 'plpgsql'
         union all select 3, 'public.' || relname from pg_class c
          where relnamespace = 'public'::regnamespace and not ${MEMBER_OF_EXTENSION("pg_class", "c.oid")}
         union all select 3, 'public.' || proname || '()' from pg_proc p
          where pronamespace = 'public'::regnamespace and not ${MEMBER_OF_EXTENSION("pg_proc", "p.oid")}
       ) objects order by rank, what limit 6) as found`,
  );
  const found = rows[0]!.found;
  if (found.length === 0) return;
  const list = found.length > 5 ? `${found.slice(0, 5).join(", ")}…` : found.join(", ");
  throw new AppError(
    "RESTORE_TARGET_NOT_EMPTY",
    `The database ${database} is not empty (${list}): restore into an empty database, ` +
      "or pass --clean to replace what the backup holds.",
  );
}

/** What a failed pg_restore means; its transaction rolled back, so the database is unchanged. */
function restoreRefusal(stderr: string, clean: boolean): AppError {
  const unchanged = "nothing was restored, the database is unchanged";
  const role = /role "([^"]+)" does not exist/.exec(stderr);
  if (role) {
    return new AppError("RESTORE_ROLES_MISMATCH", `The role ${role[1]} does not exist on this server; ${unchanged}.`);
  }
  if (clean && /cannot drop .* because other objects depend on it/.test(stderr)) {
    return new AppError(
      "RESTORE_TARGET_NOT_EMPTY",
      `The database holds objects the backup does not (${firstError(stderr)}); ${unchanged}. ` +
        "Restore into an empty database.",
    );
  }
  return new AppError("RESTORE_FAILED", `pg_restore failed (${firstError(stderr)}); ${unchanged}.`);
}

/** The newest migration graphile-migrate recorded in the restored database, if it has its schema. */
async function lastMigration(pool: pg.Pool): Promise<string | undefined> {
  const { rows } = await pool.query<{ known: boolean }>(
    "select to_regclass('graphile_migrate.migrations') is not null as known",
  );
  if (!rows[0]?.known) return undefined;
  const newest = await pool.query<{ filename: string }>(
    "select filename from graphile_migrate.migrations order by date desc, filename desc limit 1",
  );
  return newest.rows[0]?.filename;
}

/** `2026-12-01T21-36-11Z`: sortable, and a valid file name everywhere. */
function timestamp(): string {
  return `${new Date().toISOString().slice(0, 19).replaceAll(":", "-")}Z`;
}
