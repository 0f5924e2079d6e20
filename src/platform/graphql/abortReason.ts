/**
 * One `AbortError` for every `AbortController.abort()` called without a reason.
 *
 * Grafast gives each operation an `AbortController` and aborts it once the result is ready, to tell
 * its steps that the request is over. Called without a reason, `abort()` builds a new
 * `DOMException("This operation was aborted", "AbortError")`, capturing a stack trace, on every
 * request: about 3 % of the server's CPU on a small query, for an error nobody throws or reads.
 *
 * After `shareDefaultAbortReason()`, such calls pass one `AbortError` made once: a `DOMException`
 * with the same name, code and message, so `signal.reason` and `signal.throwIfAborted()` behave
 * as before; only its stack is that of its first use. A reason given by the caller is kept.
 */
let installed = false;

export function shareDefaultAbortReason(): void {
  if (installed) return;
  installed = true;
  const abort = AbortController.prototype.abort;
  let reason: DOMException | undefined;
  AbortController.prototype.abort = function abortWithSharedReason(this: AbortController, given?: unknown) {
    reason ??= new DOMException("This operation was aborted", "AbortError");
    abort.call(this, given === undefined ? reason : given);
  };
}
