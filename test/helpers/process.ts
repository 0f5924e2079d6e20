/** Running Tessera's own entry points as child processes, as an operator would. */
import { type ChildProcess, spawn } from "node:child_process";
import { randomInt } from "node:crypto";
import { createServer } from "node:net";
import { join } from "node:path";
import { projectRoot } from "../../src/platform/paths.ts";

/**
 * A port that is free now, for a child process to listen on. Chosen below the kernel's ephemeral
 * range (32768–60999): a port the kernel handed out (port 0) may be taken again for one of the
 * many outgoing connections of the test runs before the child binds it, and the child then fails
 * with EADDRINUSE. Nothing binds these ports on its own.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + randomInt(12_000);
    const server = createServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => resolve(true));
    });
    if (bound) {
      await new Promise((resolve) => server.close(resolve));
      return port;
    }
  }
  throw new Error("no free port between 20000 and 32000");
}

/**
 * Polls /ready until it answers 200; `describe` adds context to the timeout error. The deadline
 * is generous: a child process boots slowly when two test runs share two cores.
 */
export async function waitForReady(port: number, describe: () => string = () => "", timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (
    !(await fetch(`http://127.0.0.1:${port}/ready`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (Date.now() > deadline) throw new Error(`server did not become ready\n${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface EntryPointProcess {
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Its exit code (null when ended by a signal). */
  exited: Promise<number | null>;
}

/**
 * One of the entry points of src/cli/ (`start.ts`, `server.ts`, `worker.ts`) as a child process,
 * with `env` and PATH as its whole environment (nothing from the test's own).
 */
export function spawnEntryPoint(script: string, env: Record<string, string>): EntryPointProcess {
  const child = spawn(process.execPath, [join(projectRoot, "src", "cli", script)], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const chunks: string[] = [];
  child.stdout!.on("data", (chunk: Buffer) => chunks.push(chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => chunks.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => chunks.join(""), exited };
}
