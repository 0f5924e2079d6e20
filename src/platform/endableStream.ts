/**
 * Wraps a subscription's event stream so that it can be ended from outside with an error:
 * graphql-ws then sends that error (masked to its code, e.g. UNAUTHENTICATED) as the operation's
 * `error` message, which ends the operation on both sides. A client `complete` (return()) and the
 * end of the source behave as before. `onFinished` runs once, however the stream ends.
 */
export function endableStream<T>(
  source: AsyncIterable<T>,
  onFinished: () => void,
): { iterator: AsyncIterableIterator<T>; end(error: Error): void } {
  const inner = source[Symbol.asyncIterator]();
  let failure: Error | undefined;
  let finished = false;
  let fail: (error: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => {});
  const finish = () => {
    if (finished) return;
    finished = true;
    onFinished();
  };
  const iterator: AsyncIterableIterator<T> = {
    async next() {
      if (failure) throw failure;
      if (finished) return { done: true, value: undefined };
      const result = await Promise.race([inner.next(), failed]);
      if (result.done) finish();
      return result;
    },
    async return(value?: unknown) {
      finish();
      return (await inner.return?.(value)) ?? { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      finish();
      if (inner.throw) return inner.throw(error);
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return {
    iterator,
    end(error) {
      if (finished) return;
      failure = error;
      fail(error);
      finish();
      // Releases the source (its LISTEN) now; the pending next() has already been answered.
      inner.return?.().catch(() => {});
    },
  };
}
