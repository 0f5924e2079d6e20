/** `npm run task -- <name> [args]`: one operator command, then exit (1 with a message on error). */
import { boot } from "./boot.ts";

const { config, logger, modules } = await boot("tessera-task");
const { mergeRecords, registerModules } = await import("../platform/modules.ts");
const { allTaskNames } = await import("../platform/worker/registry.ts");
const { AppError } = await import("../platform/errors.ts");
const { resolveDatabase } = await import("../platform/db/resolve.ts");
const { newPool } = await import("../platform/db/pools.ts");

registerModules(modules);
const commands = mergeRecords("command", modules, (module) => module.commands);
const [name, ...args] = process.argv.slice(2);
const command = name ? commands[name] : undefined;
if (!command) {
  const usage = Object.values(commands).map((c) => `  ${c.usage.padEnd(36)} ${c.description}`);
  const unknown = name ? `Unknown command ${JSON.stringify(name)}.\n` : "";
  process.stderr.write(`${unknown}Usage: npm run task -- <command> [args]\n\n${usage.join("\n")}\n`);
  process.exit(name ? 1 : 0);
}

const database = await resolveDatabase(config, logger);
const pool = newPool({ connectionString: database.urls.ownerUrl, max: 2 }, logger, "task");
try {
  const print = (line: string) => process.stdout.write(`${line}\n`);
  await command.run({ pool, urls: database.urls, logger, taskNames: allTaskNames(modules), print }, args);
} catch (error) {
  if (!(error instanceof AppError)) throw error;
  process.stderr.write(`${error.code}: ${error.message}\n`);
  process.exitCode = 1;
} finally {
  await pool.end();
  await database.stop();
}
