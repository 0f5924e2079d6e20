/**
 * The CORS headers of a request that is not a preflight are written by our own middleware
 * (src/platform/http/cors.ts) and must be the `cors` package's, header by header, for every
 * configuration and request origin; and the remembered `trust proxy` rule
 * (src/platform/http/trustProxy.ts) must answer as Express's compiled rule does.
 */
import cors from "cors";
import express, { type RequestHandler } from "express";
import request from "supertest";
import { corsHeaders } from "../../src/platform/http/cors.ts";
import { rememberedTrust } from "../../src/platform/http/trustProxy.ts";

const EXPOSED = ["X-Request-Id", "Retry-After"];
const CONFIGURATIONS: Array<"*" | string[]> = ["*", ["https://a.example", "https://b.example"], []];
const ORIGINS = [undefined, "", "https://a.example", "https://b.example", "https://c.example", "null"];

/** An app answering 200 behind `middleware`, after a `Vary` header when `vary` is given. */
function appWith(middleware: RequestHandler, vary?: string) {
  const app = express();
  if (vary) {
    app.use((_req, res, next) => {
      res.setHeader("Vary", vary);
      next();
    });
  }
  app.use(middleware);
  app.all("/", (_req, res) => void res.json({ ok: true }));
  return app;
}

/** The response's CORS headers (and Vary), by name. */
function corsOf(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => name.startsWith("access-control-") || name === "vary"),
  );
}

test.each(CONFIGURATIONS.map((origins) => [JSON.stringify(origins), origins] as const))(
  "origins %s: our headers are the cors package's for every request origin, method and Vary before",
  async (_name, origins) => {
    const ours = corsHeaders({ origins, exposedHeaders: EXPOSED, maxAge: 600 });
    const theirs = cors({ origin: origins === "*" ? true : origins, exposedHeaders: EXPOSED, maxAge: 600 });
    for (const vary of [undefined, "Accept-Encoding", "origin", "*"]) {
      const [ourApp, theirApp] = [appWith(ours, vary), appWith(theirs, vary)];
      for (const method of ["get", "post", "options"] as const) {
        for (const origin of ORIGINS) {
          const ask = (app: express.Express) => {
            const req = request(app)[method]("/");
            if (origin !== undefined) req.set("Origin", origin);
            if (method === "options") req.set("Access-Control-Request-Method", "POST");
            return req;
          };
          const [mine, package_] = [await ask(ourApp), await ask(theirApp)];
          expect({ method, origin, vary, status: mine.status, headers: corsOf(mine.headers) }).toEqual({
            method,
            origin,
            vary,
            status: package_.status,
            headers: corsOf(package_.headers),
          });
        }
      }
    }
  },
);

test("an allowed origin is reflected and another is not (the headers a browser acts on)", async () => {
  const app = appWith(corsHeaders({ origins: ["https://a.example"], exposedHeaders: EXPOSED, maxAge: 600 }));
  const allowed = await request(app).get("/").set("Origin", "https://a.example");
  expect(allowed.headers["access-control-allow-origin"]).toBe("https://a.example");
  expect(allowed.headers["access-control-expose-headers"]).toBe("X-Request-Id,Retry-After");
  expect(allowed.headers.vary).toBe("Origin");
  const other = await request(app).get("/").set("Origin", "https://c.example");
  expect(other.headers["access-control-allow-origin"]).toBeUndefined();
});

test("the remembered trust rule answers as Express's compiled rule, past its 1,000 remembered answers", () => {
  const addresses = [
    "127.0.0.1",
    "::1",
    "::ffff:127.0.0.1",
    "10.1.2.3",
    "192.168.0.9",
    "fe80::1",
    "203.0.113.7",
    "not an address",
    ...Array.from({ length: 1_200 }, (_, i) => `10.0.${i >> 8}.${i & 255}`),
  ];
  for (const setting of [true, false, 1, 2, ["loopback"], ["10.0.0.0/8", "uniquelocal"], ["linklocal"]]) {
    const app = express();
    app.set("trust proxy", setting);
    const compiled = app.get("trust proxy fn") as (address: string, hop: number) => boolean;
    const remembered = rememberedTrust(compiled);
    // Each asked twice in a row (the second answer is remembered), then all again after more than
    // 1,000 others have been asked (forgotten and worked out again).
    const once = [0, 1, 3].flatMap((hop) =>
      addresses.flatMap((address) => [[address, hop] as const, [address, hop] as const]),
    );
    const asked = [...once, ...once];
    const answers = asked.map(([address, hop]) => `${hop} ${address}: ${remembered(address, hop)}`);
    expect(answers).toEqual(asked.map(([address, hop]) => `${hop} ${address}: ${compiled(address, hop)}`));
  }
});
