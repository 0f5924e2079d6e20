/**
 * `npm run openapi`: writes openapi.json, the OpenAPI 3.1 document of the REST route table (no
 * database, no server), and src/generated/openapi.ts, the types openapi-typescript makes of it for
 * typed clients (openapi-fetch). `npm run openapi -- --check` writes nothing and fails when a
 * committed file differs from what the specs give now (CI runs it).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";

// Only `--check`, or nothing: a mistyped flag (`--chek`, `-c`) would otherwise rewrite the files a
// check was asked for.
const args = process.argv.slice(2);
if (args.length > 1 || (args.length === 1 && args[0] !== "--check")) {
  process.stderr.write(`VALIDATION_FAILED: usage: npm run openapi [-- --check] (given: ${args.join(" ")}).\n`);
  process.exit(1);
}

// Before any Graphile module loads (the modules' GraphQL plugins import them); nothing here runs GraphQL.
process.env.GRAPHILE_ENV ??= "development";
const { MODULES } = await import("../modules/index.ts");
const { OPENAPI_PATH, openApiText } = await import("../platform/http/openapi.ts");
const { projectRoot } = await import("../platform/paths.ts");
const { default: openapiTS, astToString } = await import("openapi-typescript");

const document = openApiText(MODULES);
const types = astToString(await openapiTS(JSON.parse(document)));
const outputs: Array<[path: string, text: string]> = [
  [OPENAPI_PATH, document],
  [join(projectRoot, "src/generated/openapi.ts"), types],
];
const check = args[0] === "--check";
for (const [path, fresh] of outputs) {
  const name = relative(process.cwd(), path) || path;
  if (check) {
    const committed = existsSync(path) ? readFileSync(path, "utf8") : undefined;
    if (committed !== fresh) {
      process.stderr.write(`${name} is stale: run \`npm run openapi\` and commit the result\n`);
      process.exitCode = 1;
    } else process.stdout.write(`${name} is current\n`);
  } else {
    writeFileSync(path, fresh);
    process.stdout.write(`wrote ${name}\n`);
  }
}
