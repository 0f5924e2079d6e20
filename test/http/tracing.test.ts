/**
 * With OTEL_EXPORTER_OTLP_ENDPOINT set, a request produces HTTP, GraphQL and pg spans
 * (child process, local collector).
 */
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { projectRoot } from "../../src/platform/paths.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { freePort, waitForReady } from "../helpers/process.ts";

let db: TestDatabase;
let collector: Server;
const spans: Array<{ name: string; scope: string }> = [];
const otherSignals: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      if (!req.url?.endsWith("/v1/traces")) otherSignals.push(req.url ?? "");
      const body = (req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw).toString("utf8");
      if (otherSignals.length > 0 && !req.url?.endsWith("/v1/traces")) {
        res.end("{}");
        return;
      }
      const payload = JSON.parse(body) as {
        resourceSpans: Array<{ scopeSpans: Array<{ scope: { name: string }; spans: Array<{ name: string }> }> }>;
      };
      for (const resource of payload.resourceSpans)
        for (const scope of resource.scopeSpans)
          for (const span of scope.spans) spans.push({ name: span.name, scope: scope.scope.name });
      res.setHeader("content-type", "application/json");
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
});
afterAll(async () => {
  await new Promise((resolve) => collector.close(resolve));
  await db.drop();
});

test("HTTP, GraphQL and pg spans reach the collector", async () => {
  const port = await freePort();
  const child = spawn(process.execPath, [join(projectRoot, "src", "cli", "server.ts")], {
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      DATABASE_URL: db.urls.ownerUrl,
      DATABASE_AUTHENTICATOR_URL: db.urls.authenticatorUrl,
      LOG_LEVEL: "warn",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
    },
    stdio: "ignore",
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  try {
    await waitForReady(port);
    const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "query ListModules { modules { nodes { name } } }" }),
    });
    expect(response.status).toBe(200);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
  const scopes = [...new Set(spans.map((span) => span.scope))];
  expect(scopes).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/instrumentation-http$/),
      expect.stringMatching(/instrumentation-pg$/),
    ]),
  );
  expect(spans.some((span) => /POST/.test(span.name))).toBe(true);
  expect(scopes).toEqual(expect.arrayContaining([expect.stringMatching(/instrumentation-graphql$/)]));
  expect(otherSignals).toEqual([]);
});
