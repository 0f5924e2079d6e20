/**
 * `mkdir -p` that always ends. Node's own recursive mkdir retries for ever where the kernel answers
 * ENOENT for a parent that exists (`mkdir /proc/x/tmp` spins at 100 % CPU): here each missing
 * directory is made once, from the top down, and the first refusal is thrown as it is. A path that
 * exists but is not a directory is ENOTDIR.
 */
import { mkdirSync, statSync } from "node:fs";
import { mkdir, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";

/** The directory and each of its parents, from the root down. */
function lineage(dir: string): string[] {
  const chain: string[] = [];
  for (let current = resolve(dir); ; current = dirname(current)) {
    chain.unshift(current);
    if (dirname(current) === current) return chain;
  }
}

const codeOf = (error: unknown) => (error as NodeJS.ErrnoException).code;

function notADirectory(dir: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), { code: "ENOTDIR", path: dir });
}

export async function makeDirectory(dir: string, mode?: number): Promise<void> {
  const made = (each: string) =>
    mkdir(each, { mode }).then(
      () => true,
      (error: unknown) => {
        if (codeOf(error) === "EEXIST") return true;
        if (codeOf(error) === "ENOENT" && each === resolve(dir)) return false;
        throw error;
      },
    );
  // The usual case first: the directory, or its parent, exists.
  if (!(await made(resolve(dir)))) for (const each of lineage(dir)) await made(each);
  if (!(await stat(dir)).isDirectory()) throw notADirectory(dir);
}

export function makeDirectorySync(dir: string, mode?: number): void {
  for (const each of lineage(dir)) {
    try {
      mkdirSync(each, { mode });
    } catch (error) {
      if (codeOf(error) !== "EEXIST") throw error;
    }
  }
  if (!statSync(dir).isDirectory()) throw notADirectory(dir);
}
