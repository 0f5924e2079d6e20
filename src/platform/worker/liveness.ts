/**
 * Worker liveness: each graphile-worker pool of this process registers in app_private.worker_pools
 * under its id — the value graphile-worker writes to jobs.locked_by — and a timer beats for all of
 * them every `heartbeatSeconds`. On the same timer, this process releases the jobs of pools whose
 * heartbeat is older than `staleAfterSeconds` (app_private.release_dead_workers): a worker killed
 * with SIGKILL or lost with its machine no longer strands its jobs for graphile-worker's 4 hours.
 *
 * The timer is Node's, not a cron job: it keeps beating while every job slot is busy.
 */
import { hostname } from "node:os";
import type { WorkerEvents } from "graphile-worker";
import type pg from "pg";
import type { WorkerLivenessConfig } from "../config.ts";
import type { Logger } from "../logger.ts";

export const LIVENESS_DEFAULTS: WorkerLivenessConfig = { heartbeatSeconds: 10, staleAfterSeconds: 60 };

export interface Liveness {
  /** The runner the next pool created on `events` belongs to ("jobs", "mail", "contms"…), shown to operators. */
  label: string;
  /** Stops beating and unregisters this process's pools (after they have stopped). */
  stop(): Promise<void>;
}

export function startLiveness(
  pool: pg.Pool,
  events: WorkerEvents,
  logger: Logger,
  config: WorkerLivenessConfig,
): Liveness {
  /** The pools that beat: created on `events` and not yet released. */
  const pools = new Map<string, string>();
  /** Every pool ever registered, unregistered at stop(). */
  const registered = new Set<string>();
  const host = hostname();
  let beating: Promise<void> = Promise.resolve();
  let stopped = false;

  const beat = async (ids: Map<string, string>) => {
    if (ids.size === 0) return;
    await pool.query(
      `insert into app_private.worker_pools (id, label, hostname, pid)
       select id, label, $3, $4 from unnest($1::text[], $2::text[]) as t(id, label)
       on conflict (id) do update set beat_at = now()`,
      [[...ids.keys()], [...ids.values()], host, process.pid],
    );
  };
  const tick = async () => {
    try {
      await beat(pools);
      const { rows } = await pool.query<{ released: number }>(
        "select app_private.release_dead_workers(make_interval(secs => $1)) as released",
        [config.staleAfterSeconds],
      );
      const released = rows[0]?.released ?? 0;
      if (released > 0)
        logger.warn({ released, staleAfterSeconds: config.staleAfterSeconds }, "released the jobs of dead workers");
    } catch (error) {
      // The database may be briefly away; the next beat tries again.
      logger.warn({ err: error }, "worker heartbeat failed");
    }
  };
  // One beat at a time: a slow database must not pile them up.
  const schedule = () => {
    beating = beating.then(tick);
  };
  const timer = setInterval(schedule, config.heartbeatSeconds * 1000);

  const liveness: Liveness = {
    label: "jobs",
    async stop() {
      stopped = true;
      clearInterval(timer);
      await beating;
      if (registered.size === 0) return;
      await pool
        .query("delete from app_private.worker_pools where id = any($1::text[])", [[...registered]])
        .catch((error: unknown) => {
          logger.warn({ err: error }, "could not unregister the worker pools");
        });
    },
  };
  events.on("pool:create", ({ workerPool }) => {
    if (stopped) return;
    pools.set(workerPool.id, liveness.label);
    registered.add(workerPool.id);
    // Registered at once (the pool is already fetching jobs); the periodic beat repairs a failure.
    schedule();
  });
  // A released pool stops beating: whatever it still holds (a pool that ended on an error) goes
  // back to the queue once its row is stale, instead of being vouched for by this live process.
  events.on("pool:release", ({ workerPool }) => {
    if (!stopped) pools.delete(workerPool.id);
  });
  return liveness;
}
