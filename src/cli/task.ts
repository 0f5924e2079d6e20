/** `npm run task -- <name> [args]`: one operator command, then exit (1 with a message on error). */
import { boot, reportRefusal, withDatabase } from "./boot.ts";

const booted = await boot("tessera-task", { takesArguments: true });
const { config, logger, modules } = booted;
const { mergeRecords, registerModules } = await import("../platform/modules.ts");
const { allTaskNames, enqueuedPayloadProblems, taskMaxAttempts } = await import("../platform/worker/registry.ts");
const { newPool } = await import("../platform/db/pools.ts");
const { maxArguments } = await import("../platform/commands.ts");

registerModules(modules);
const commands = mergeRecords("command", modules, (module) => module.commands);
const [name, ...args] = process.argv.slice(2);
// Its own commands only: `__proto__`, `constructor` or `toString` named none and crashed.
const command = name && Object.hasOwn(commands, name) ? commands[name] : undefined;
if (!command) {
  const usage = Object.values(commands).map((c) => `  ${c.usage.padEnd(36)} ${c.description}`);
  // No word at all asks for the list; any other word (an empty one too) names no command.
  const unknown = name !== undefined ? `VALIDATION_FAILED: Unknown command ${JSON.stringify(name)}.\n` : "";
  process.stderr.write(`${unknown}Usage: npm run task -- <command> [args]\n\n${usage.join("\n")}\n`);
  process.exit(name !== undefined ? 1 : 0);
}

if (args.length > maxArguments(command)) {
  process.stderr.write(`VALIDATION_FAILED: Too many arguments. Usage: npm run task -- ${command.usage}\n`);
  process.exit(1);
}

await withDatabase(booted, { migrate: false }, async (urls) => {
  const pool = newPool({ connectionString: urls.ownerUrl, max: 2 }, logger, "task");
  const print = (line: string) => process.stdout.write(`${line}\n`);
  try {
    await reportRefusal(() =>
      command.run(
        {
          pool,
          urls,
          config,
          logger,
          taskNames: allTaskNames(modules),
          payloadProblems: (task, payload) => enqueuedPayloadProblems(modules, task, payload),
          maxAttempts: (task) => taskMaxAttempts(modules, task),
          print,
        },
        args,
      ),
    );
  } finally {
    await pool.end();
  }
});
