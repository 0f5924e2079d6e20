/**
 * `npm run db -- <graphile-migrate command>`: graphile-migrate's CLI with the connection strings
 * and role placeholders of the configured (or embedded) database, e.g. `npm run db -- watch --once`,
 * `npm run db -- commit`. After commands that change the database, the reviewed dumps are refreshed.
 */
import { spawn } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { boot } from "./boot.ts";

/**
 * The options of each graphile-migrate command (1.4), for the checks graphile-migrate's argument
 * parser would otherwise answer with its whole help: flags (`--x`, `--no-x`, `--x=true|false`),
 * options that take a value (`--x v`, `--x=v`, `-m v`), and how many file arguments it takes.
 */
interface CommandOptions {
  flags?: string[];
  values?: string[];
  files?: number;
}
const COMMAND_OPTIONS: Record<string, CommandOptions> = {
  init: { flags: ["folder"] },
  migrate: { flags: ["shadow", "forceActions"] },
  watch: { flags: ["once", "shadow"] },
  commit: { values: ["message", "m"] },
  uncommit: {},
  reset: { flags: ["shadow", "erase"] },
  status: { flags: ["skipDatabase"] },
  compile: { flags: ["shadow"], files: 1 },
  run: { flags: ["shadow", "root", "rootDatabase"], files: 1 },
};
/** The commands refused when APP_ENV=stage or prod. */
const DEVELOPMENT_COMMANDS = ["init", "watch", "commit", "uncommit", "reset"];
// Every command takes --help. Not `--config`: the project's .gmrc names the folders and placeholders
// the settings above fill in, and another file failed with graphile-migrate's own error line.
const COMMON_FLAGS = ["help"];

const { config, logger, modules } = await boot("tessera-db", { takesArguments: true });
const { resolveDatabase } = await import("../platform/db/resolve.ts");
const { migrationSettings } = await import("../platform/db/migrate.ts");
const { exportSchemas } = await import("../platform/schemaExport.ts");
const { projectRoot } = await import("../platform/paths.ts");
const { runMigrations } = await import("graphile-worker");
const { newPool, withClient } = await import("../platform/db/pools.ts");

const args = process.argv.slice(2);
// Development commands: `reset` drops and recreates the database, `watch` applies the migration in
// progress, `commit` and `uncommit` rewrite the committed ones. A production database is migrated
// with `npm run migrate` (or `npm run db -- migrate`).
if (config.isProduction && DEVELOPMENT_COMMANDS.includes(args[0] ?? "")) {
  process.stderr.write(
    `FORBIDDEN: \`npm run db -- ${args[0]}\` is refused when APP_ENV=${config.env}: ` +
      "it is for development (`npm run migrate` migrates a production database).\n",
  );
  process.exit(1);
}
const refusal = argumentRefusal(args, config.database !== undefined && !config.database.shadowUrl);
if (refusal) {
  process.stderr.write(`VALIDATION_FAILED: ${refusal}\n`);
  process.exit(1);
}

const database = await resolveDatabase(config, logger);
try {
  const settings = migrationSettings(database.urls);
  // Through our pool, with the connect timeout: graphile-worker's and graphile-migrate's own pools
  // wait for ever on a server that never replies.
  const pool = newPool({ connectionString: database.urls.ownerUrl, max: 1 }, logger, "db");
  try {
    await runMigrations({ pgPool: pool });
  } finally {
    await pool.end();
  }
  if (database.urls.shadowUrl) await reachable(database.urls.shadowUrl);
  const child = spawn(join(projectRoot, "node_modules", ".bin", "graphile-migrate"), args, {
    stdio: ["inherit", "inherit", "pipe"],
    cwd: projectRoot,
    env: {
      ...process.env,
      DATABASE_URL: settings.connectionString,
      SHADOW_DATABASE_URL: settings.shadowConnectionString,
      ROOT_DATABASE_URL: settings.rootConnectionString,
      DATABASE_OWNER: settings.databaseOwner,
      DATABASE_AUTHENTICATOR: settings.placeholders?.[":DATABASE_AUTHENTICATOR"],
      DATABASE_VISITOR: settings.placeholders?.[":DATABASE_VISITOR"],
      DATABASE_BOT: settings.placeholders?.[":DATABASE_BOT"],
    },
  });
  // Its exit status once every line of its standard error has been passed on.
  const [status] = await Promise.all([
    new Promise<number | null>((done) => child.on("close", done)),
    withoutStackFrames(child.stderr),
  ]);
  // graphile-migrate's own messages carry no code: the last line names the failure as other commands do.
  if (status) process.stderr.write(`MIGRATION_FAILED: graphile-migrate ${args[0]} failed (its message is above).\n`);
  if (status === 0 && ["migrate", "commit", "uncommit", "watch", "reset"].includes(args[0] ?? "")) {
    await exportSchemas(database.urls, logger, modules);
  }
  process.exitCode = status ?? 1;
} finally {
  await database.stop();
}

/**
 * What graphile-migrate would fail on with a stack trace or its help, said first in one line: a
 * command it does not have, the commands that check their work in the shadow database without one
 * (an external database needs SHADOW_DATABASE_URL; the embedded one has its own), and `run` or
 * `compile` of a file that cannot be read.
 */
function argumentRefusal(args: string[], noShadow: boolean): string | undefined {
  const [command, ...rest] = args;
  if (command === "--help" || command === "--version") return undefined;
  // Anything but one of graphile-migrate's commands, or none, had it print its whole help and exit 1.
  const options = command === undefined ? undefined : COMMAND_OPTIONS[command];
  if (!options)
    return `Usage: npm run db -- <${Object.keys(COMMAND_OPTIONS).join("|")}> [options] (graphile-migrate's commands).`;
  const read = readOptions(command as string, options, rest);
  if (typeof read === "string") return read;
  const needsShadow = ["commit", "uncommit", "status"].includes(command ?? "") || read.flags.has("shadow");
  if (noShadow && needsShadow)
    return (
      `\`npm run db -- ${command}\` needs SHADOW_DATABASE_URL: ` +
      "graphile-migrate checks the migrations in a shadow database."
    );
  if (command !== "run" && command !== "compile") return undefined;
  const [file] = read.files;
  if (!file) return `Usage: npm run db -- ${command} <file.sql> (a file of SQL).`;
  const path = resolve(projectRoot, file);
  try {
    accessSync(path, constants.R_OK);
    if (!statSync(path).isFile()) return `${file} is not a file.`;
    return undefined;
  } catch (error) {
    return `${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? "unknown"}).`;
  }
}

/**
 * The file arguments of `command` and the flags it was given as true, or the first option or
 * argument it does not take, named in one line.
 */
function readOptions(
  command: string,
  options: CommandOptions,
  rest: string[],
): string | { files: string[]; flags: Set<string> } {
  const flags = [...COMMON_FLAGS, ...(options.flags ?? [])];
  const values = options.values ?? [];
  const taken = (names: string[]) => names.map((name) => (name.length === 1 ? `-${name}` : `--${name}`)).join(", ");
  const usage = `\`npm run db -- ${command}\` takes ${[taken(flags), taken(values)].filter(Boolean).join(", ")}`;
  const files: string[] = [];
  const given = new Set<string>();
  for (let index = 0; index < rest.length; index++) {
    const arg = rest[index] as string;
    if (arg === "--") return `${usage}; \`--\` ends nothing here.`;
    const option = /^--?([^=]+)(?:=(.*))?$/s.exec(arg);
    if (!option) {
      files.push(arg);
      if (files.length > (options.files ?? 0)) return `${usage}; it does not take ${JSON.stringify(arg)}.`;
      continue;
    }
    const [, name = "", value] = option;
    const long = arg.startsWith("--");
    if (long !== name.length > 1) return `${usage}; ${JSON.stringify(arg)} is none of them.`;
    if (values.includes(name)) {
      if (value === undefined && (index + 1 >= rest.length || (rest[index + 1] as string).startsWith("-")))
        return `${usage}; ${arg} needs a value.`;
      if (value === undefined) index++;
      continue;
    }
    const flag = long && name.startsWith("no-") && value === undefined ? name.slice(3) : name;
    if (!flags.includes(flag)) return `${usage}; ${JSON.stringify(arg)} is none of them.`;
    if (value !== undefined && value !== "true" && value !== "false")
      return `${usage}; ${arg}: a flag is true or false.`;
    if (flag === name && value !== "false") given.add(flag);
    else given.delete(flag);
  }
  return { files, flags: given };
}

/**
 * Fails (DATABASE_UNREACHABLE at boot) when the shadow database's server does not answer or refuses
 * us; a shadow database not made yet is fine (graphile-migrate makes it with ROOT_DATABASE_URL).
 */
async function reachable(url: string): Promise<void> {
  await withClient(url, logger, "shadow", async () => {}).catch((error: unknown) => {
    if ((error as { code?: unknown }).code !== "3D000") throw error;
  });
}

/**
 * graphile-migrate's standard error, line by line, without the frames of a stack trace (and the
 * error's properties printed after them): its message is for the operator, the frames are not.
 */
function withoutStackFrames(stderr: NodeJS.ReadableStream): Promise<void> {
  let inProperties = false;
  const lines = createInterface({ input: stderr, crlfDelay: Number.POSITIVE_INFINITY });
  const ended = new Promise<void>((done) => lines.once("close", done));
  lines.on("line", (line) => {
    if (inProperties) {
      inProperties = line !== "}";
      return;
    }
    if (/^\s+at \S/.test(line)) {
      inProperties = line.endsWith(" {");
      return;
    }
    process.stderr.write(`${line}\n`);
  });
  return ended;
}
