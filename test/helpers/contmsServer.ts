/**
 * A fake subscription provider (Contms) for tests: a real HTTP server on 127.0.0.1 at a random port.
 *
 * - `GET /products` answers `{items: products}`; change `products` between sync runs;
 * - `POST /subscriptions` issues a subscription per `reference` (the same one again for a reference it
 *   has seen), with a fresh random password; `failIssues(n)` makes the next n calls answer 500;
 *   `holdIssues()` keeps the calls waiting until its release is called (a provider that hangs);
 * - `calls(reference)` counts the POSTs per reference (failed ones included);
 * - with a token, a request without `Authorization: Bearer <token>` is 401.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeProduct {
  id: string;
  name: string;
  description?: string | null;
  price: string;
  currency: string;
  durationDays?: number | null;
}

export interface FakeSubscription {
  id: string;
  login: string;
  password: string;
  url: string;
  expiresAt: string;
  productId: string;
  telegramId: number;
}

export interface ContmsServer {
  url: string;
  /** The variables that point Tessera at this server. */
  env: Record<string, string>;
  products: FakeProduct[];
  /** What was issued, by reference. */
  issued: Map<string, FakeSubscription>;
  /** The next `count` issuing calls answer 500. */
  failIssues(count: number): void;
  /** Until the returned release is called, issuing calls wait for their answer. */
  holdIssues(): () => void;
  /** Issuing calls being answered now. */
  issuesInFlight(): number;
  /** POST /subscriptions calls for this reference (failed ones included). */
  calls(reference: string): number;
  /** GET /products calls. */
  productListings(): number;
  stop(): Promise<void>;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
}

export async function startContmsServer(options: { token?: string } = {}): Promise<ContmsServer> {
  const issued = new Map<string, FakeSubscription>();
  const callCounts = new Map<string, number>();
  let failures = 0;
  let listings = 0;
  let held: Promise<void> = Promise.resolve();
  let inFlight = 0;
  const state = { products: [] as FakeProduct[] };
  const server = createServer(async (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    try {
      if (options.token && req.headers.authorization !== `Bearer ${options.token}`)
        return send(401, { error: "unauthorized" });
      if (req.method === "GET" && req.url === "/products") {
        listings += 1;
        return send(200, { items: state.products });
      }
      if (req.method === "POST" && req.url === "/subscriptions") {
        inFlight += 1;
        res.on("close", () => {
          inFlight -= 1;
        });
        await held;
        const body = await readJson(req);
        const reference = String(body.reference);
        callCounts.set(reference, (callCounts.get(reference) ?? 0) + 1);
        if (failures > 0) {
          failures -= 1;
          return send(500, { error: "provider is down" });
        }
        const product = state.products.find((p) => p.id === body.productId);
        if (!product) return send(400, { error: "unknown product" });
        let subscription = issued.get(reference);
        if (!subscription) {
          const days = product.durationDays ?? 30;
          subscription = {
            id: `contms-${randomBytes(6).toString("hex")}`,
            login: `user-${randomBytes(4).toString("hex")}`,
            password: randomBytes(18).toString("base64url"),
            url: "https://vpn.contms.example/connect",
            expiresAt: new Date(Date.now() + days * 86_400_000).toISOString(),
            productId: product.id,
            telegramId: Number((body.customer as { telegramId?: unknown } | undefined)?.telegramId),
          };
          issued.set(reference, subscription);
        }
        const { id, login, password, url, expiresAt } = subscription;
        return send(200, { id, login, password, url, expiresAt });
      }
      send(404, { error: "not found" });
    } catch (error) {
      send(500, { error: String(error) });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    env: { CONTMS_API_URL: url, ...(options.token ? { CONTMS_API_TOKEN: options.token } : {}) },
    get products() {
      return state.products;
    },
    set products(products: FakeProduct[]) {
      state.products = products;
    },
    issued,
    failIssues(count) {
      failures = count;
    },
    holdIssues() {
      let release = () => {};
      held = new Promise<void>((resolve) => {
        release = resolve;
      });
      return release;
    },
    issuesInFlight: () => inFlight,
    calls: (reference) => callCounts.get(reference) ?? 0,
    productListings: () => listings,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
