/**
 * docs/event-flow.md cannot drift: its table names exactly the domain event types the SQL publishes
 * (`publish_event('<type>'` in the committed and current migrations, and in src) and exactly the
 * consumers the modules register (`consumersByType(MODULES)`), each under its event type.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MODULES } from "../src/modules/index.ts";
import { projectRoot } from "../src/platform/paths.ts";
import { consumersByType } from "../src/platform/worker/registry.ts";

const NONE = "—";

interface Row {
  type: string;
  consumer: string;
  module: string;
}

/** The rows between the event-flow markers: | `type` | published by | `consumer` or — | module | … | */
function docRows(): Row[] {
  const text = readFileSync(join(projectRoot, "docs", "event-flow.md"), "utf8");
  const start = text.indexOf("<!-- event-flow:start -->");
  const end = text.indexOf("<!-- event-flow:end -->");
  if (start < 0 || end < start) throw new Error("docs/event-flow.md has no event-flow table markers");
  const lines = text
    .slice(start, end)
    .split("\n")
    .filter((line) => line.startsWith("|"))
    .slice(2); // header and separator
  return lines.map((line) => {
    const cells = line
      .split("|")
      .slice(1, -1)
      .map((cell) => cell.trim());
    const bare = (cell: string | undefined) => (cell ?? "").replace(/^`|`$/g, "");
    return { type: bare(cells[0]), consumer: bare(cells[2]), module: bare(cells[3]) };
  });
}

function filesUnder(dir: string, suffix: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path, suffix) : entry.name.endsWith(suffix) ? [path] : [];
  });
}

/** Every event type a publish_event call in the SQL (and in src) names. */
function publishedTypes(): string[] {
  const files = [
    ...filesUnder(join(projectRoot, "migrations", "committed"), ".sql"),
    ...filesUnder(join(projectRoot, "migrations", "current"), ".sql"),
    ...filesUnder(join(projectRoot, "src"), ".ts"),
  ];
  const types = new Set<string>();
  for (const file of files) {
    for (const match of readFileSync(file, "utf8").matchAll(/publish_event\(\s*'([a-z0-9_]+)'/g)) types.add(match[1]!);
  }
  return [...types].sort();
}

const pairs = (rows: Array<{ type: string; consumer: string }>) =>
  rows.map((row) => `${row.type} → ${row.consumer}`).sort();

test("the table's rows are well formed", () => {
  const rows = docRows();
  expect(rows.length).toBeGreaterThan(0);
  for (const row of rows) {
    expect(row.type).toMatch(/^[a-z][a-z0-9_]*$/);
    expect(row.consumer === NONE || /^[a-z][a-z0-9_]*$/.test(row.consumer)).toBe(true);
  }
  expect(new Set(pairs(rows)).size).toBe(rows.length);
});

test("every published event type is in docs/event-flow.md, and nothing else is", () => {
  const published = publishedTypes();
  expect(published).toContain("tenant_created");
  expect([...new Set(docRows().map((row) => row.type))].sort()).toEqual(published);
});

test("every registered consumer is in docs/event-flow.md under its event type and module, and nothing else", () => {
  const registered = consumersByType(MODULES);
  const inCode = Object.entries(registered).flatMap(([type, consumers]) =>
    consumers.map((consumer) => ({ type, consumer: consumer.name })),
  );
  const rows = docRows();
  expect(pairs(rows.filter((row) => row.consumer !== NONE))).toEqual(pairs(inCode));
  // A consumer's module is the manifest that registers it.
  for (const row of rows.filter((r) => r.consumer !== NONE)) {
    const owner = MODULES.find((module) =>
      (module.consumers?.[row.type] ?? []).some((consumer) => consumer.name === row.consumer),
    );
    expect(`${row.type} → ${row.consumer}: ${owner?.name}`).toBe(`${row.type} → ${row.consumer}: ${row.module}`);
  }
  // "—" only for an event no consumer handles.
  for (const row of rows.filter((r) => r.consumer === NONE)) expect(registered[row.type] ?? []).toEqual([]);
  // Every consumed event type is published somewhere.
  const published = publishedTypes();
  for (const type of Object.keys(registered)) expect(published).toContain(type);
});
