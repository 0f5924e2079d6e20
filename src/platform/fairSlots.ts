/**
 * Places for work of which only so much may run at once, each piece of work taking as many places as
 * it weighs (one, unless said). Waiting work is served one key (a client address) at a time in turn,
 * each key's in the order it asked: served first come first served, a flood from a few addresses
 * kept one user's work waiting behind thousands of theirs. The next in turn is served first even
 * when lighter work behind it would fit, so heavy work is never starved.
 */
export class FairSlots {
  readonly size: number;
  #free: number;
  #waitingCount = 0;
  /** Waiting work by key; the map's order is the round's (a key served goes last). */
  readonly #waiting = new Map<string, Array<{ weight: number; resolve: () => void }>>();

  constructor(size: number) {
    this.size = size;
    this.#free = size;
  }

  /** Whether work of `weight` asking now would wait. */
  full(weight = 1): boolean {
    return this.#waitingCount > 0 || this.#free < this.#weightOf(weight);
  }

  /** How many places are taken. */
  get inUse(): number {
    return this.size - this.#free;
  }

  /** How much work waits, in all. */
  get waiting(): number {
    return this.#waitingCount;
  }

  /** How much work of `key` waits. */
  waitingOf(key: string): number {
    return this.#waiting.get(key)?.length ?? 0;
  }

  /** Takes places for work of `weight` if it need not wait; false (nothing taken) otherwise. */
  tryAcquire(weight = 1): boolean {
    if (this.full(weight)) return false;
    this.#free -= this.#weightOf(weight);
    return true;
  }

  /** Resolves once places are taken for work of `key` and `weight`. */
  acquire(key: string, weight = 1): Promise<void> {
    if (this.tryAcquire(weight)) return Promise.resolve();
    this.#waitingCount += 1;
    return new Promise((resolve) => {
      const waiter = { weight: this.#weightOf(weight), resolve };
      const queue = this.#waiting.get(key);
      if (queue) queue.push(waiter);
      else this.#waiting.set(key, [waiter]);
    });
  }

  /** Gives the places of work of `weight` back: to the next keys in the round, as far as they fit. */
  release(weight = 1): void {
    this.#free += this.#weightOf(weight);
    for (;;) {
      const next = this.#waiting.entries().next();
      if (next.done) return;
      const [key, queue] = next.value;
      const waiter = queue[0]!;
      if (waiter.weight > this.#free) return;
      queue.shift();
      this.#waiting.delete(key);
      if (queue.length > 0) this.#waiting.set(key, queue);
      this.#waitingCount -= 1;
      this.#free -= waiter.weight;
      waiter.resolve();
    }
  }

  /** Work heavier than all the places takes them all, and runs alone. */
  #weightOf(weight: number): number {
    return Math.min(Math.max(1, weight), this.size);
  }
}
