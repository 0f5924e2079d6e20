/**
 * Reading the answer of a service we call (a payment provider, Contms, Telegram, the captcha check)
 * with a bound: fetch would read any body whole, and decompress a gzip one as far as it goes, so a
 * broken or hostile upstream could fill the process's memory with one answer (450 MB were read
 * whole). Past `maxBytes` of decoded body the read stops, the connection is dropped, and the call
 * fails as an upstream that answered wrongly does.
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
