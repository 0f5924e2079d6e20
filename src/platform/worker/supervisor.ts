/**
 * Keeps a graphile-worker runner running. A runner ends on its own when it cannot write the outcome
 * of a job (graphile-worker then shuts its pool down: "queue is in an inconsistent state") — as
 * when a job ends while PostgreSQL restarts — and the process used to live on without it: none of
 * that runner's jobs ran again until someone restarted the process. Supervised, the runner is
 * started again, retrying until the database answers; the jobs the ended pool still held go back
 * to the queue once its heartbeat is stale (./liveness.ts), and run again (idempotent tasks).
 */
import type { Runner } from "graphile-worker";
import type { Logger } from "../logger.ts";

/** Waits before each new start of a runner that ended on its own (the last one repeats). */
export const RESTART_DELAYS_MS = [500, 1_000, 2_000, 5_000, 10_000] as const;

export interface Supervised {
  /** The runner running now; undefined while it is being started again. */
  readonly current: Runner | undefined;
  /** Stops supervising and stops the runner (running jobs finish). */
  stop(): Promise<void>;
  /** Stops supervising and kills the runner. */
  kill(reason?: string): Promise<void>;
  /** Resolves once stopped or killed. */
  readonly ended: Promise<void>;
}

/** Starts a runner with `start` (its error is thrown) and starts it again whenever it ends on its own. */
export async function supervise(
  name: string,
  start: () => Promise<Runner>,
  logger: Logger,
  delays: readonly number[] = RESTART_DELAYS_MS,
): Promise<Supervised> {
  let current: Runner | undefined = await start();
  let stopping = false;
  let wake: () => void = () => {};
  let restarting: Promise<void> = Promise.resolve();
  let endedResolve: () => void = () => {};
  const ended = new Promise<void>((resolve) => (endedResolve = resolve));

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const restart = async () => {
    logger.error({ runner: name }, "worker runner ended on its own; starting it again");
    for (let attempt = 0; !stopping; attempt++) {
      await pause(delays[Math.min(attempt, delays.length - 1)]!);
      if (stopping) return;
      try {
        current = await start();
        watch(current);
        logger.warn({ runner: name, attempts: attempt + 1 }, "worker runner started again");
        return;
      } catch (error) {
        logger.warn({ err: error, runner: name }, "worker runner could not start again; retrying");
      }
    }
  };

  const watch = (runner: Runner) => {
    const onEnd = () => {
      if (stopping || current !== runner) return;
      current = undefined;
      restarting = restart();
    };
    runner.promise.then(onEnd, onEnd);
  };
  watch(current);

  /** Stops supervising; a start under way finishes first, then `end` ends what runs. */
  const finish = async (end: (runner: Runner) => Promise<void>) => {
    if (!stopping) {
      stopping = true;
      wake();
      await restarting;
      const runner = current;
      current = undefined;
      try {
        if (runner) await end(runner);
      } finally {
        endedResolve();
      }
    }
    return ended;
  };
  return {
    get current() {
      return current;
    },
    stop: () => finish((runner) => runner.stop()),
    kill: (reason) => finish((runner) => runner.kill(reason)),
    ended,
  };
}
