/**
 * `npm run init [-- --tenant <slug>] [--name <name>] [--email <admin e-mail>] [--operator <e-mail>]
 * [--revoke-operator <e-mail>]`: bootstrap (the steps of every module: src/platform/bootstrap.ts). Idempotent; secrets
 * are printed once. `--operator` makes a user of the tenant a platform operator — the only way to
 * become one.
 */
import { parseArgs } from "node:util";
import { boot, reportRefusal, withDatabase } from "./boot.ts";

const USAGE =
  "Usage: npm run init -- [--tenant <slug>] [--name <name>] [--email <admin e-mail>] [--operator <e-mail>]" +
  " [--revoke-operator <e-mail>]";
const booted = await boot("tessera-init", { takesArguments: true });
const { logger, modules } = booted;
let values: { tenant?: string; name?: string; email?: string; operator?: string; "revoke-operator"?: string };
try {
  let tokens: ReturnType<typeof parseArgs>["tokens"];
  ({ values, tokens } = parseArgs({
    tokens: true,
    options: {
      tenant: { type: "string" },
      name: { type: "string" },
      email: { type: "string" },
      operator: { type: "string" },
      "revoke-operator": { type: "string" },
    },
  }));
  // parseArgs keeps the last of a repeated option; two different --email values are a mistake to name.
  const names = (tokens ?? []).flatMap((token) => (token.kind === "option" ? [token.name] : []));
  const repeated = names.find((option, index) => names.indexOf(option) !== index);
  if (repeated) throw new Error(`Option '--${repeated}' is given more than once.`);
} catch (error) {
  process.stderr.write(`VALIDATION_FAILED: ${(error as Error).message}\n${USAGE}\n`);
  process.exit(1);
}
const tenantSlug = values.tenant ?? "main";
// An e-mail address is at most 254 characters (RFC 5321's path limit), as the users table holds.
const EMAIL = /^(?=.{3,254}$)[^@\s]+@[^@\s]+\.[^@\s]+$/;
// Each refusal names its option.
const problems = [
  ...(/^[a-z0-9][a-z0-9-]{1,62}$/.test(tenantSlug) ? [] : ["--tenant must be a slug (2–63 of a-z, 0-9, -)"]),
  ...(["email", "operator", "revoke-operator"] as const)
    .filter((option) => values[option] !== undefined && !EMAIL.test(values[option]))
    .map((option) => `--${option} must be an e-mail address (name@domain, at most 254 characters)`),
];
if (problems.length > 0) {
  process.stderr.write(`VALIDATION_FAILED: ${problems.join("; ")}.\n`);
  process.exit(1);
}
// Granting and revoking one address in one run would report both and leave whichever ran last.
if (values.operator !== undefined && values.operator.toLowerCase() === values["revoke-operator"]?.toLowerCase()) {
  process.stderr.write("VALIDATION_FAILED: --operator and --revoke-operator name the same address.\n");
  process.exit(1);
}
const { bootstrap } = await import("../platform/bootstrap.ts");
const { withClient } = await import("../platform/db/pools.ts");
// Refusals (an unknown operator e-mail…) are one line; nothing was written (one transaction).
await withDatabase(booted, { migrate: true }, (urls) =>
  withClient(urls.ownerUrl, logger, "init", (client) =>
    reportRefusal(async () => {
      const report = await bootstrap(modules, client, {
        tenantSlug,
        tenantName: values.name ?? tenantSlug,
        options: { email: values.email, operator: values.operator, "revoke-operator": values["revoke-operator"] },
      });
      process.stdout.write(`${report.join("\n")}\n`);
    }),
  ),
);
