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

const { config, logger, modules } = await boot("tessera-db", { takesArguments: true });
const { resolveDatabase } = await import("../platform/db/resolve.ts");
const { migrationSettings } = await import("../platform/db/migrate.ts");
const { exportSchemas } = await import("../platform/schemaExport.ts");
const { projectRoot } = await import("../platform/paths.ts");
const { runMigrations } = await import("graphile-worker");
const { newPool, withClient } = await import("../platform/db/pools.ts");

const args = process.argv.slice(2);
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
  const status = await new Promise<number | null>((done) => {
    withoutStackFrames(child.stderr);
    child.on("close", done);
  });
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
  // graphile-migrate's commands; anything else, or none, had it print its whole help and exit 1.
  const COMMANDS = ["init", "migrate", "watch", "commit", "uncommit", "reset", "status", "compile", "run"];
  const [command, ...rest] = args;
  if (command === undefined || (!command.startsWith("-") && !COMMANDS.includes(command)))
    return `Usage: npm run db -- <${COMMANDS.join("|")}> [options] (graphile-migrate's commands).`;
  const needsShadow = ["commit", "uncommit", "status"].includes(command ?? "") || rest.includes("--shadow");
  if (noShadow && needsShadow)
    return (
      `\`npm run db -- ${command}\` needs SHADOW_DATABASE_URL: ` +
      "graphile-migrate checks the migrations in a shadow database."
    );
  if (command !== "run" && command !== "compile") return undefined;
  const file = rest.find((arg) => !arg.startsWith("-"));
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
function withoutStackFrames(stderr: NodeJS.ReadableStream): void {
  let inProperties = false;
  createInterface({ input: stderr, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (line) => {
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
}
