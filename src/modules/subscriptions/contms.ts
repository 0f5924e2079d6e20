/**
 * The subscription provider's HTTP API (Contms), as the worker calls it:
 *
 * - `GET <url>/products` → `{items: [{id, name, description, price: "9.99", currency, durationDays}]}`;
 * - `POST <url>/subscriptions` `{productId, reference, customer: {telegramId}}` →
 *   `{id, login, password, url, expiresAt}`; the same `reference` again answers the same subscription.
 *
 * Anything but a 2xx with a body of that shape (a 5xx, a redirect, a refused connection, a timeout,
 * a malformed answer or one over CONTMS_MAX_ANSWER_BYTES) throws ContmsError: the job fails and
 * graphile-worker retries it. A redirect is not followed: it would send the token and the customer's
 * Telegram id to another host, and take that host's answer for the provider's.
 */
import { z } from "zod";
import { datetimeProblem } from "../../platform/graphql/datetime.ts";
import { isStorableText } from "../../platform/http/unicode.ts";
import { upstreamFailure, upstreamText } from "../../platform/http/upstreamBody.ts";
import type { ContmsConfig } from "./config.ts";

/** How long one call may take before it counts as failed. */
export const CONTMS_TIMEOUT_MS = 15_000;

/**
 * The largest answer read: a catalogue of thousands of products with long descriptions, and small
 * enough to parse within the process's heap (npm start runs with 256 MiB of old space).
 */
const CONTMS_MAX_ANSWER_BYTES = 16 * 1024 * 1024;

export class ContmsError extends Error {
  override name = "ContmsError";
}

/**
 * Text PostgreSQL can store: well-formed Unicode (a lone surrogate reached the database as invalid
 * JSON) without NUL. Refused here, the sync's error names the item and field, not a SQL error.
 */
const STORABLE = "must be well-formed Unicode without NUL";
const ProviderText = (max: number) => z.string().min(1).max(max).refine(isStorableText, STORABLE);

export const ContmsProduct = z.object({
  id: z.union([ProviderText(200), z.number().int().transform(String)]),
  name: ProviderText(200),
  description: z.string().max(4000).refine(isStorableText, STORABLE).nullish(),
  price: z.string().regex(/^[0-9]{1,16}(\.[0-9]{1,2})?$/, "must be a decimal string like 9.99"),
  currency: z.string().regex(/^[A-Z]{3}$/, "must be an ISO 4217 code"),
  durationDays: z.number().min(1).max(36_600).int().nullish(),
});
export type ContmsProduct = z.output<typeof ContmsProduct>;

/** An id given twice (also as 7 and "7") is one product or two? Refused, naming both items. */
const ProductList = z.object({
  items: z
    .array(ContmsProduct)
    .max(10_000)
    .superRefine((items, context) => {
      const firstOf = new Map<string, number>();
      for (const [index, item] of items.entries()) {
        const first = firstOf.get(item.id);
        if (first !== undefined) {
          context.addIssue({ code: "custom", path: [index, "id"], message: `repeats items.${first}.id` });
          return;
        }
        firstOf.set(item.id, index);
      }
    }),
});

export const IssuedSubscription = z.object({
  id: z.union([ProviderText(200), z.number().int().transform(String)]),
  login: ProviderText(1000),
  password: ProviderText(1000),
  url: ProviderText(2000),
  // A time `Datetime` would take: ISO 8601's year 0000 is no year PostgreSQL reads (the job would
  // fail on every attempt as if the provider had not answered), and 0001-01-01T00:00:00+14:00 is a
  // time of 1 BC, which REST and GraphQL would then print as two different wrong dates.
  expiresAt: z.iso
    .datetime({ offset: true })
    .refine((value) => datetimeProblem(value) === undefined, "a time in years 1 to 9999 (UTC)")
    .nullish(),
});
export type IssuedSubscription = z.output<typeof IssuedSubscription>;

export interface IssueRequest {
  productId: string;
  /** Ours, unique per subscription: the provider answers the same subscription for it every time. */
  reference: string;
  customer: { telegramId: number };
}

export function contmsClient(config: ContmsConfig) {
  const base = config.apiUrl.endsWith("/") ? config.apiUrl : `${config.apiUrl}/`;
  async function call<T>(method: "GET" | "POST", path: string, schema: z.ZodType<T>, body?: unknown): Promise<T> {
    const what = `Contms ${method} /${path}`;
    let response: Response;
    let text: string;
    try {
      response = await fetch(new URL(path, base), {
        method,
        headers: {
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...(config.apiToken ? { authorization: `Bearer ${config.apiToken}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(CONTMS_TIMEOUT_MS),
        redirect: "error",
      });
      text = await upstreamText(response, CONTMS_MAX_ANSWER_BYTES);
    } catch (error) {
      throw new ContmsError(`${what} ${upstreamFailure(error)}`);
    }
    if (!response.ok) {
      // An error page that echoes the request must not carry the token into a job's error, which
      // the tenant's admins read.
      const excerpt = config.apiToken ? text.replaceAll(config.apiToken, "[CONTMS_API_TOKEN]") : text;
      throw new ContmsError(`${what} answered ${response.status}: ${excerpt.slice(0, 200)}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ContmsError(`${what} answered ${response.status} with a body that is not JSON`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const problems = parsed.error.issues.slice(0, 5).map((issue) => `${issue.path.join(".")}: ${issue.message}`);
      throw new ContmsError(`${what} answered an unexpected body (${problems.join("; ")})`);
    }
    return parsed.data;
  }
  return {
    async listProducts(): Promise<ContmsProduct[]> {
      return (await call("GET", "products", ProductList)).items;
    },
    issue(request: IssueRequest): Promise<IssuedSubscription> {
      return call("POST", "subscriptions", IssuedSubscription, request);
    },
  };
}
