/**
 * Reading the answer of a service we call (a payment provider, Contms, Telegram, the captcha check)
 * with a bound: fetch would read any body whole, and decompress a gzip one as far as it goes, so a
 * broken or hostile upstream could fill the process's memory with one answer (450 MB were read
 * whole). Past `maxBytes` of decoded body the read stops, the connection is dropped, and the call
 * fails as an upstream that answered wrongly does. And one wording of a call that got no answer.
 */

export class UpstreamBodyTooLarge extends Error {
  constructor(maxBytes: number) {
    super(`the answer is larger than ${maxBytes} bytes`);
    this.name = "UpstreamBodyTooLarge";
  }
}

/** The body as UTF-8 text, or UpstreamBodyTooLarge once more than `maxBytes` have arrived. */
export async function upstreamText(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get("content-length"));
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new UpstreamBodyTooLarge(maxBytes);
  }
  const reader = response.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new UpstreamBodyTooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Why a call to a service ended without an answer, in the words every client here uses after naming
 * the call: `timed out`, or `failed: ` and fetch's message with its cause's code or message
 * (`fetch failed (ECONNREFUSED)`, `fetch failed (unexpected redirect)`, the bound of a body too large).
 */
export function upstreamFailure(error: unknown): string {
  // By name: fetch's DOMExceptions may come from another realm than this module's Error.
  const name = (error as { name?: unknown } | null)?.name;
  if (name === "TimeoutError" || name === "AbortError") return "timed out";
  const ownMessage = (error as { message?: unknown } | null)?.message;
  const message = typeof ownMessage === "string" ? ownMessage : String(error);
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const detail = typeof cause?.code === "string" ? cause.code : cause?.message;
  return `failed: ${typeof detail === "string" && detail !== "" ? `${message} (${detail})` : message}`;
}
