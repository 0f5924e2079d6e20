/**
 * A second look for the "jobs" runner after its fetch met another runner's.
 *
 * graphile-worker's job fetch (0.18) locks every free named queue (`FOR UPDATE SKIP LOCKED`)
 * whatever tasks the fetching runner runs, and skips the queues another fetch holds. An
 * announcement (a new job, a freed queue: `NOTIFY "jobs:insert"`) wakes every runner of the process
 * at once, so the mail runner or a module's runner often holds those locks for the instant the jobs
 * runner looks: its fetch skips the queue, finds nothing, and the queue's next job (a tenant's
 * next bot push) waits for the 2 s poll. Measured: one gap of 2 s in a burst of 30 pushes.
 *
 * So a local queue's fetch that found nothing while a runner without a local queue was fetching
 * too looks again once those fetches are over (`pulse`, as an announcement would). Only fetches
 * within this process are seen; the poll still covers a collision with another process.
 */
import type { WorkerEvents } from "graphile-worker";

/** What this reaches of graphile-worker's LocalQueue: public in its code, not all in its types. */
interface LocalQueueView {
  workerPool: object;
  fetchInProgress: boolean;
  pulse(count: number): void;
}

export function refetchAfterCollidingFetches(events: WorkerEvents): void {
  /** The pools that fetch through a local queue, and their queues. */
  const localQueues = new Map<object, LocalQueueView>();
  /** Fetches in flight of runners without a local queue, by worker. */
  const fetching = new Set<string>();
  /** Local queues whose fetch overlapped another runner's. */
  const overlapped = new Set<LocalQueueView>();
  /** Local queues that found nothing meanwhile: they look again when the others are done. */
  const again = new Set<LocalQueueView>();

  const markOverlaps = () => {
    for (const queue of localQueues.values()) if (queue.fetchInProgress) overlapped.add(queue);
  };
  const started = (worker: { workerPool: object; workerId: string }) => {
    if (localQueues.has(worker.workerPool)) return;
    fetching.add(worker.workerId);
    markOverlaps();
  };
  const ended = (worker: { workerPool: object; workerId: string }) => {
    if (!fetching.delete(worker.workerId)) return;
    markOverlaps();
    if (fetching.size > 0) return;
    for (const queue of again) queue.pulse(1);
    again.clear();
  };

  events.on("localQueue:init", ({ localQueue }) => {
    const queue = localQueue as unknown as LocalQueueView;
    localQueues.set(queue.workerPool, queue);
  });
  events.on("localQueue:setMode", ({ localQueue, newMode }) => {
    if (newMode !== "RELEASED") return;
    const queue = localQueue as unknown as LocalQueueView;
    localQueues.delete(queue.workerPool);
    overlapped.delete(queue);
    again.delete(queue);
  });
  events.on("localQueue:getJobs:complete", ({ localQueue, jobs }) => {
    const queue = localQueue as unknown as LocalQueueView;
    const collided = overlapped.delete(queue) || fetching.size > 0;
    if (!collided || jobs.length > 0) return;
    // Still inside the fetch: pulsed now, it would fetch again at once, perhaps beside the same
    // fetches; it waits for them to end (or, when they have, for the fetch's own end).
    if (fetching.size > 0) again.add(queue);
    else queueMicrotask(() => queue.pulse(1));
  });
  events.on("worker:getJob:start", ({ worker }) => started(worker));
  events.on("worker:getJob:empty", ({ worker }) => ended(worker));
  events.on("worker:getJob:error", ({ worker }) => ended(worker));
  events.on("job:start", ({ worker }) => ended(worker));
}
