/**
 * Works around a bug of graphile-worker 0.18.0 (its latest release): releasing a local queue that
 * holds fetched jobs while every job slot is busy — its WAITING mode, with nothing else in the
 * background — throws "Cannot background something when the queue is already released" right after
 * starting to hand its jobs back. The stop then goes on as a failed graceful shutdown: five lines
 * at error level, a forceful shutdown, the runner's own release skipped, the queue's end never
 * reached and the hand-back no longer awaited. A busy worker met it on every SIGTERM.
 *
 * The fix: each local queue keeps one task of its own "in the background" from its creation until
 * it is released, so that its release always finds one and goes its normal way (the jobs handed
 * back are awaited before the pool closes). Nothing else reads that count. Tested by the shutdown
 * test with a full local queue (test/reliability/faults/shutdown.test.ts).
 */
import type { WorkerEvents } from "graphile-worker";

/** What the work-around reaches: LocalQueue's `background()`, private in its types. */
interface Backgrounding {
  background(promise: Promise<void>): void;
}

export function holdLocalQueuesOpen(events: WorkerEvents): void {
  const holds = new Map<object, () => void>();
  events.on("localQueue:init", ({ localQueue }) => {
    let done: () => void = () => {};
    (localQueue as unknown as Backgrounding).background(new Promise<void>((resolve) => (done = resolve)));
    holds.set(localQueue, done);
  });
  events.on("localQueue:setMode", ({ localQueue, newMode }) => {
    if (newMode !== "RELEASED") return;
    // Resolved now, counted down in a later microtask: after the release has put its own work
    // (handing the jobs back) in the background.
    holds.get(localQueue)?.();
    holds.delete(localQueue);
  });
}
