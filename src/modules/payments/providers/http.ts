/** One JSON request to a provider: every failure (network, timeout, not JSON) becomes a ProviderError. */
import type { z } from "zod";
import { upstreamFailure, upstreamText } from "../../../platform/http/upstreamBody.ts";
import { ProviderError, ProviderRefusal } from "./provider.ts";

/** How long one request to a provider may take. */
export const PROVIDER_TIMEOUT_MS = 10_000;

/** The largest answer read: an invoice is a few hundred bytes. */
const PROVIDER_MAX_ANSWER_BYTES = 1024 * 1024;

export interface ProviderResponse {
  status: number;
  /** The parsed JSON body; undefined when the body was empty or not JSON. */
  body: unknown;
}

export async function requestJson(
  provider: string,
  url: string,
  init: { method: "GET" | "POST"; body?: unknown; headers?: Record<string, string>; timeoutMs?: number },
): Promise<ProviderResponse> {
  const what = `${provider}: ${init.method} ${new URL(url).pathname}`;
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method: init.method,
      headers: {
        accept: "application/json",
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
        ...init.headers,
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(init.timeoutMs ?? PROVIDER_TIMEOUT_MS),
      redirect: "error",
    });
    text = await upstreamText(response, PROVIDER_MAX_ANSWER_BYTES);
  } catch (error) {
    throw new ProviderError(`${what} ${upstreamFailure(error)}`, { cause: error });
  }
  let body: unknown;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body };
}

/** The statuses by which a provider refuses a request as such, whoever sends it and whenever. */
const REFUSALS = new Set([400, 409, 422]);

/** A 2xx answer's body in the expected shape, or a ProviderError naming what came instead. */
export function expectAnswer<T>(provider: string, what: string, response: ProviderResponse, schema: z.ZodType<T>): T {
  if (response.status < 200 || response.status > 299) {
    const detail =
      typeof response.body === "object" && response.body !== null && "error" in response.body
        ? `: ${String((response.body as { error: unknown }).error).slice(0, 200)}`
        : "";
    const message = `${provider}: ${what} answered HTTP ${response.status}${detail}`;
    throw REFUSALS.has(response.status) ? new ProviderRefusal(message) : new ProviderError(message);
  }
  const parsed = schema.safeParse(response.body);
  if (!parsed.success)
    throw new ProviderError(`${provider}: ${what} answered an unexpected body`, { cause: parsed.error });
  return parsed.data;
}
