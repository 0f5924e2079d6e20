/**
 * run_build: runs one build with the configured executor (executor.ts). The build becomes running
 * (app_private.start_build; nothing happens unless it was queued), its lines are stored in batches
 * (at most every LOG_FLUSH_MS, or LOG_BATCH lines), each batch answering the build's status, and the
 * status is polled while the command is quiet: a cancelled build aborts the executor, which stops
 * its command. The outcome is written by app_private.finish_build (only a running build changes).
 */
import { z } from "zod";
import type { JobHelpers } from "graphile-worker";
import type { TaskDefinition } from "../../platform/modules.ts";
import { buildsConfig } from "./config.ts";
import { type BuildExecutor, type BuildLog, commandExecutor, defaultExecutor, type LogStream } from "./executor.ts";

const LOG_FLUSH_MS = 100;
const LOG_BATCH = 200;
const STATUS_POLL_MS = 250;
/** Lines stored per build at most; the rest is counted and reported in one line. */
export const MAX_LINES = 10_000;

/** Buffers lines and stores them in order; calls `onStopped` when the build is no longer running. */
class LogWriter implements BuildLog {
  private pending: Array<[LogStream, string]> = [];
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stored = 0;
  private dropped = 0;
  error: unknown;

  private readonly helpers: JobHelpers;
  private readonly buildId: string;
  private readonly onStopped: () => void;

  constructor(helpers: JobHelpers, buildId: string, onStopped: () => void) {
    this.helpers = helpers;
    this.buildId = buildId;
    this.onStopped = onStopped;
  }

  line(stream: LogStream, text: string): void {
    if (this.stored >= MAX_LINES) {
      this.dropped += 1;
      return;
    }
    this.stored += 1;
    this.pending.push([stream, text]);
    if (this.pending.length >= LOG_BATCH) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), LOG_FLUSH_MS);
  }

  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending.splice(0);
    if (batch.length === 0) return this.chain;
    this.chain = this.chain.then(async () => {
      try {
        const { rows } = await this.helpers.query<{ status: string | null }>(
          "select app_private.append_build_log($1, $2, $3) as status",
          [this.buildId, batch.map(([stream]) => stream), batch.map(([, text]) => text)],
        );
        if (rows[0]?.status !== "running") this.onStopped();
      } catch (error) {
        this.error ??= error;
        this.onStopped();
      }
    });
    return this.chain;
  }

  async close(): Promise<void> {
    if (this.dropped > 0) {
      this.pending.push(["system", `${this.dropped} more line(s) not stored (at most ${MAX_LINES} per build)`]);
    }
    await this.flush();
    if (this.error) throw this.error;
  }
}

export const runBuild: TaskDefinition<{ buildId: string }> = {
  payload: z.object({ buildId: z.uuid() }).passthrough(),
  async run({ buildId }, helpers, context) {
    if (!context.config) throw new Error("run_build: the worker was started without its configuration");
    const settings = buildsConfig.of(context.config);
    const { rows } = await helpers.query<{ status: string | null; tenant_id: string; modules: string[] }>(
      "select * from app_private.start_build($1)",
      [buildId],
    );
    const build = rows[0];
    if (build?.status !== "running") return;
    const executor: BuildExecutor = settings.command
      ? commandExecutor(settings.command, settings.timeoutSeconds)
      : defaultExecutor;

    const abort = new AbortController();
    const log = new LogWriter(helpers, buildId, () => abort.abort());
    const poll = setInterval(() => {
      helpers
        .query<{ status: string | null }>("select app_private.build_status($1) as status", [buildId])
        .then(({ rows: status }) => {
          if (status[0]?.status !== "running") abort.abort();
        })
        .catch(() => undefined);
    }, STATUS_POLL_MS);
    let outcome: Awaited<ReturnType<BuildExecutor["run"]>>;
    try {
      outcome = await executor.run(
        { id: buildId, tenantId: build.tenant_id, modules: build.modules },
        log,
        abort.signal,
      );
    } catch (error) {
      helpers.logger.error(`build ${buildId}: the executor failed: ${String(error)}`);
      outcome = { status: "failed", reason: "the build stopped on an internal error" };
    } finally {
      clearInterval(poll);
    }
    await log.close();
    if (outcome.status === "cancelled") return;
    await helpers.query("select app_private.finish_build($1, $2, $3)", [
      buildId,
      outcome.status,
      outcome.status === "succeeded" ? "build succeeded" : `build failed: ${outcome.reason}`,
    ]);
  },
};
