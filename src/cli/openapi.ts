/**
 * `npm run openapi`: writes openapi.json, the OpenAPI 3.1 document of the REST route table (no
 * database, no server). `npm run openapi -- --check` writes nothing and fails when the committed
 * file differs from what the specs give now (CI runs it).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { relative } from "node:path";

// Before any Graphile module loads (the modules' GraphQL plugins import them); nothing here runs GraphQL.
process.env.GRAPHILE_ENV ??= "development";
const { MODULES } = await import("../modules/index.ts");
const { OPENAPI_PATH, openApiText } = await import("../platform/http/openapi.ts");

const fresh = openApiText(MODULES);
const name = relative(process.cwd(), OPENAPI_PATH) || OPENAPI_PATH;
if (process.argv.includes("--check")) {
  const committed = existsSync(OPENAPI_PATH) ? readFileSync(OPENAPI_PATH, "utf8") : undefined;
  if (committed !== fresh) {
    process.stderr.write(`${name} is stale: run \`npm run openapi\` and commit the result\n`);
    process.exit(1);
  }
  process.stdout.write(`${name} is current\n`);
} else {
  writeFileSync(OPENAPI_PATH, fresh);
  process.stdout.write(`wrote ${name}\n`);
}
