/**
 * The server shares one AbortError among aborts without a reason (Grafast aborts every operation's
 * controller when its result is ready): what code waiting on a signal sees must not change.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { shareDefaultAbortReason } from "../../src/platform/graphql/abortReason.ts";

beforeAll(() => shareDefaultAbortReason());

test("an abort without a reason is still an AbortError, made once", () => {
  const first = new AbortController();
  const second = new AbortController();
  first.abort();
  second.abort(undefined);
  for (const { signal } of [first, second]) {
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(DOMException);
    expect(signal.reason).toMatchObject({ name: "AbortError", code: 20, message: "This operation was aborted" });
    expect(() => signal.throwIfAborted()).toThrow(signal.reason as DOMException);
  }
  expect(second.signal.reason).toBe(first.signal.reason);
});

test("a reason the caller gives is kept, and a second abort changes nothing", () => {
  const controller = new AbortController();
  const reason = new Error("client went away");
  controller.abort(reason);
  controller.abort();
  expect(controller.signal.reason).toBe(reason);
});

test("listeners still hear the abort, and fetch still rejects with an AbortError", async () => {
  // A server that never answers: the request is aborted while it waits.
  const server = createServer(() => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const controller = new AbortController();
    const heard = new Promise((resolve) => controller.signal.addEventListener("abort", resolve, { once: true }));
    const pending = fetch(`http://127.0.0.1:${port}/`, { signal: controller.signal });
    await new Promise((resolve) => server.once("request", resolve));
    controller.abort();
    await heard;
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
