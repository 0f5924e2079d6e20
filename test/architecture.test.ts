/**
 * The module layout holds: the platform core never depends on (nor names) a module, every module
 * folder is one manifest in the one list, and a module imports only modules listed before it.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { MODULES } from "../src/modules/index.ts";
import { projectRoot } from "../src/platform/paths.ts";

const src = join(projectRoot, "src");

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** Every relative import of a file, as a path from the project root. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specifiers = [...text.matchAll(/(?:from\s+|import\s*\(\s*)["'](\.{1,2}\/[^"']+)["']/g)].map(
    (match) => match[1]!,
  );
  return specifiers.map((specifier) => relative(projectRoot, resolve(file, "..", specifier)));
}

test("no file of the platform core imports a module", () => {
  const offenders = filesUnder(join(src, "platform")).flatMap((file) =>
    importsOf(file)
      .filter((target) => target.startsWith("src/modules/"))
      .map((target) => `${relative(projectRoot, file)} → ${target}`),
  );
  expect(offenders).toEqual([]);
});

test("the platform core names no module", () => {
  const names = MODULES.map((module) => module.name);
  // As a string literal (a hard-coded module name in code or SQL), not as an English word.
  const quoted = new RegExp(`(["'])(${names.join("|")})\\1`, "g");
  // The same word with another meaning, named here one by one.
  const otherMeanings = new Set(['src/platform/http/requestBody.ts "identity"']); // HTTP's identity Content-Encoding
  const offenders = filesUnder(join(src, "platform")).flatMap((file) =>
    [...readFileSync(file, "utf8").matchAll(quoted)]
      .map((match) => `${relative(projectRoot, file)} ${match[0]}`)
      .filter((found) => !otherMeanings.has(found)),
  );
  expect(offenders).toEqual([]);
});

test("every module folder is one manifest in the list, named after its folder", () => {
  const folders = readdirSync(join(src, "modules"), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  expect(MODULES.map((module) => module.name).sort()).toEqual(folders);
});

test("modules import each other only through what they build on (no cycles through index files)", () => {
  const order = MODULES.map((module) => module.name);
  const moduleFiles = filesUnder(join(src, "modules")).filter((file) =>
    relative(join(src, "modules"), file).includes("/"),
  );
  const offenders = moduleFiles.flatMap((file) => {
    const own = relative(join(src, "modules"), file).split("/")[0]!;
    return importsOf(file)
      .filter((target) => target.startsWith("src/modules/") && target !== "src/modules/index.ts")
      .map((target) => target.split("/")[2]!)
      .filter((other) => other !== own && order.indexOf(other) > order.indexOf(own))
      .map((other) => `${relative(projectRoot, file)} → ${other} (listed after ${own})`);
  });
  expect(offenders).toEqual([]);
});
