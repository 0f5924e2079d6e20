/**
 * How a build runs. An executor is given the build, a log to write lines to and a signal that
 * aborts when the build is cancelled; it answers how the build ended. The job (tasks.ts) stores the
 * lines and the outcome.
 *
 * - `defaultExecutor`: no command configured; it records its steps and succeeds.
 * - `commandExecutor`: runs BUILD_COMMAND (operator configuration, never tenant input) in a shell,
 *   in a process group of its own, with a small environment (PATH, HOME, LANG, TMPDIR and the
 *   build's BUILD_ID, BUILD_TENANT_ID, BUILD_MODULES: never the server's secrets, since the output
 *   is shown to the tenant). Its stdout and stderr become log lines as they come. A non-zero exit
 *   fails the build; on timeout or cancel the whole group gets SIGTERM, then SIGKILL after a grace.
 */
import { spawn } from "node:child_process";
import { StringDecoder } from "node:string_decoder";

export type LogStream = "stdout" | "stderr" | "system";

export interface BuildLog {
  line(stream: LogStream, text: string): void;
}

export interface BuildRun {
  id: string;
  tenantId: string;
  modules: readonly string[];
}

export type BuildOutcome = { status: "succeeded" } | { status: "failed"; reason: string } | { status: "cancelled" };

export interface BuildExecutor {
  run(build: BuildRun, log: BuildLog, signal: AbortSignal): Promise<BuildOutcome>;
}

/** Longest stored line; a longer output line is cut, with a note of what was dropped (`lineSplitter`). */
export const MAX_LINE_LENGTH = 4000;

/** The built-in build: checks the module snapshot and records each step. */
export const defaultExecutor: BuildExecutor = {
  async run(build, log, signal) {
    const steps = [
      `build ${build.id}: ${build.modules.length} module(s) enabled: ${build.modules.join(", ") || "none"}`,
      ...build.modules.map((module) => `module ${module}: configuration checked`),
      "assembling the release",
    ];
    for (const step of steps) {
      if (signal.aborted) return { status: "cancelled" };
      log.line("system", step);
    }
    return { status: "succeeded" };
  },
};

/**
 * Splits a byte stream into lines (UTF-8 safe across chunks), each in order and whole up to
 * MAX_LINE_LENGTH. A longer line keeps its beginning, ended by a note of how many of its bytes were
 * not stored; its rest is read to its end and dropped, never stored as lines of its own.
 */
export function lineSplitter(emit: (text: string) => void) {
  const decoder = new StringDecoder("utf8");
  let line = "";
  // Bytes of the current line past the cap, dropped as they come.
  let dropped = 0;
  const add = (text: string) => {
    const room = MAX_LINE_LENGTH - line.length;
    if (dropped === 0 && text.length <= room) {
      line += text;
      return;
    }
    const kept = dropped === 0 ? wholeCharacters(text, room) : "";
    line += kept;
    dropped += Buffer.byteLength(text.slice(kept.length));
  };
  // PostgreSQL's text cannot hold NUL: shown as U+FFFD, as bytes that are not UTF-8 already are.
  const flush = () => {
    let text = line.replaceAll("\u0000", "\ufffd");
    if (dropped > 0) {
      // The note takes the place of the line's last characters (64: room for any count), whose
      // bytes it counts too.
      const head = wholeCharacters(text, MAX_LINE_LENGTH - 64);
      text = `${head} … (${dropped + Buffer.byteLength(text.slice(head.length))} more bytes of this line not stored)`;
    } else {
      text = text.replace(/\r$/, "");
    }
    line = "";
    dropped = 0;
    emit(text);
  };
  const write = (text: string) => {
    const parts = text.split("\n");
    const last = parts.pop() as string;
    for (const part of parts) {
      add(part);
      flush();
    }
    add(last);
  };
  return {
    write(chunk: Buffer) {
      write(decoder.write(chunk));
    },
    end() {
      write(decoder.end());
      if (line || dropped) flush();
    },
  };
}

/** The first `length` UTF-16 units of `text`, one fewer if that would split a surrogate pair. */
function wholeCharacters(text: string, length: number): string {
  if (text.length <= length) return text;
  const code = text.charCodeAt(length - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? length - 1 : length);
}

function buildEnvironment(build: BuildRun): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ["PATH", "HOME", "LANG", "TMPDIR"]) if (process.env[name]) env[name] = process.env[name];
  env.BUILD_ID = build.id;
  env.BUILD_TENANT_ID = build.tenantId;
  env.BUILD_MODULES = build.modules.join(",");
  return env;
}

export function commandExecutor(command: string, timeoutSeconds: number, killGraceMs = 5000): BuildExecutor {
  return {
    run(build, log, signal) {
      return new Promise<BuildOutcome>((resolve) => {
        const child = spawn(command, {
          shell: true,
          detached: true,
          stdio: ["ignore", "pipe", "pipe"],
          env: buildEnvironment(build),
        });
        let stopping: "timeout" | "cancelled" | undefined;
        let killTimer: NodeJS.Timeout | undefined;
        const killGroup = (sig: NodeJS.Signals) => {
          if (child.pid === undefined) return;
          try {
            process.kill(-child.pid, sig);
          } catch {
            // The group is gone already.
          }
        };
        const stop = (why: "timeout" | "cancelled") => {
          if (stopping) return;
          stopping = why;
          log.line(
            "system",
            why === "timeout" ? `timed out after ${timeoutSeconds} s: stopping` : "cancelled: stopping",
          );
          killGroup("SIGTERM");
          killTimer = setTimeout(() => killGroup("SIGKILL"), killGraceMs);
        };
        const timer = setTimeout(() => stop("timeout"), timeoutSeconds * 1000);
        const onAbort = () => stop("cancelled");
        signal.addEventListener("abort", onAbort, { once: true });
        if (signal.aborted) onAbort();

        const stdout = lineSplitter((text) => log.line("stdout", text));
        const stderr = lineSplitter((text) => log.line("stderr", text));
        child.stdout.on("data", (chunk: Buffer) => stdout.write(chunk));
        child.stderr.on("data", (chunk: Buffer) => stderr.write(chunk));
        // The shell is gone: whatever it left in its group (background processes) goes too.
        child.on("exit", () => killGroup("SIGKILL"));

        let settled = false;
        const settle = (outcome: BuildOutcome) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          clearTimeout(killTimer);
          signal.removeEventListener("abort", onAbort);
          resolve(outcome);
        };
        child.on("error", (error) =>
          settle({ status: "failed", reason: `the command did not start: ${error.message}` }),
        );
        child.on("close", (code, sig) => {
          stdout.end();
          stderr.end();
          if (stopping === "cancelled") return settle({ status: "cancelled" });
          if (stopping === "timeout") {
            return settle({ status: "failed", reason: `timed out after ${timeoutSeconds} s: the command was killed` });
          }
          if (code === 0) return settle({ status: "succeeded" });
          settle({ status: "failed", reason: sig ? `the command was killed by ${sig}` : `exit code ${code}` });
        });
      });
    },
  };
}
