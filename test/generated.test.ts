/**
 * The committed, generated files must match what the code and migrations produce now:
 * schema.graphql, sql/schema.sql and the codegen output. Regenerate with
 * `npm run schema:export && npm run codegen`.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { MODULES } from "../src/modules/index.ts";
import { createLogger } from "../src/platform/logger.ts";
import { projectRoot } from "../src/platform/paths.ts";
import {
  renderGraphqlSchema,
  renderSqlSchema,
  SCHEMA_GRAPHQL_PATH,
  SCHEMA_SQL_PATH,
} from "../src/platform/schemaExport.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

const STALE = "is stale: run `npm run schema:export && npm run codegen` and commit the result";

test("schema.graphql matches the schema PostGraphile builds from the migrations", async () => {
  const fresh = await renderGraphqlSchema(db.urls, createLogger("silent"), MODULES);
  const committed = readFileSync(SCHEMA_GRAPHQL_PATH, "utf8");
  if (fresh !== committed) process.stdout.write(`schema.graphql ${STALE}\n`);
  expect(fresh).toEqual(committed);
});

test("sql/schema.sql matches the migrated database", async () => {
  const fresh = await renderSqlSchema(db.urls, MODULES);
  const committed = readFileSync(SCHEMA_SQL_PATH, "utf8");
  if (fresh !== committed) process.stdout.write(`sql/schema.sql ${STALE}\n`);
  expect(fresh).toEqual(committed);
});

test("src/generated matches graphql-codegen's output for schema.graphql and the server's documents", () => {
  const bin = join(projectRoot, "node_modules", "@graphql-codegen", "cli", "esm", "bin.js");
  const result = spawnSync(process.execPath, [bin, "--config", "codegen.yml", "--check"], {
    cwd: projectRoot,
    encoding: "utf8",
  });
  if (result.status !== 0) process.stdout.write(`src/generated ${STALE}\n${result.stdout}${result.stderr}`);
  expect(result.status).toBe(0);
});

test("npm run openapi takes --check or nothing: a mistyped flag is refused and rewrites nothing", () => {
  const files = ["openapi.json", "src/generated/openapi.ts"].map((file) => join(projectRoot, file));
  const before = files.map((file) => statSync(file).mtimeMs);
  for (const args of [["--bogus"], ["-c"], ["--check", "extra"]]) {
    const result = spawnSync(process.execPath, [join(projectRoot, "src", "cli", "openapi.ts"), ...args], {
      cwd: projectRoot,
      encoding: "utf8",
    });
    expect([result.status, result.stdout]).toEqual([1, ""]);
    expect(result.stderr).toBe(`VALIDATION_FAILED: usage: npm run openapi [-- --check] (given: ${args.join(" ")}).\n`);
  }
  expect(files.map((file) => statSync(file).mtimeMs)).toEqual(before);
});
