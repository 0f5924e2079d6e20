/** `npm run task -- <name> [args]`: one operator command, then exit (1 with a message on error). */
import { boot } from "./boot.ts";

const { config, logger } = boot("tessera-task");
const { commands } = await import("../platform/commands.ts");
const { AppError } = await import("../platform/errors.ts");
const { resolveDatabase } = await import("../platform/db/resolve.ts");
const pg = (await import("pg")).default;
const { watchPool } = await import("../platform/db/pools.ts");

const [name, ...args] = process.argv.slice(2);
const command = name ? commands[name] : undefined;
if (!command) {
  process.stderr.write(
    `${name ? `Unknown command ${JSON.stringify(name)}.\n` : ""}Usage: npm run task -- <command> [args]\n\n` +
      Object.values(commands).map((c) => `  ${c.usage.padEnd(36)} ${c.description}`).join("\n") + "\n",
  );
  process.exit(name ? 1 : 0);
}

const database = await resolveDatabase(config, logger);
const pool = watchPool(new pg.Pool({ connectionString: database.urls.ownerUrl, max: 2 }), logger, "task");
try {
  await command.run({ pool, urls: database.urls, logger, print: (line) => process.stdout.write(`${line}\n`) }, args);
} catch (error) {
  if (!(error instanceof AppError)) throw error;
  process.stderr.write(`${error.code}: ${error.message}\n`);
  process.exitCode = 1;
} finally {
  await pool.end();
  await database.stop();
}
