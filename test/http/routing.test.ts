/**
 * How a request finds its route: paths are matched as written (`/METRICS` is not `/metrics`); a
 * path of the REST table under another method is 405 with `Allow`, not 404; `/graphql` takes its
 * media type in any case; Swagger UI serves only the files its page loads.
 */
import { startTestApp, type TestApp } from "../helpers/app.ts";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

async function call(path: string, init: RequestInit = {}) {
  const response = await fetch(`${app.url}${path}`, init);
  const text = await response.text();
  return {
    status: response.status,
    allow: response.headers.get("allow"),
    body: text && response.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text,
  };
}

test("paths are matched as written: another case is no route", async () => {
  expect((await call("/metrics")).status).toBe(200);
  for (const path of ["/METRICS", "/Ready", "/API/users/me", "/api/Users/me", "/api/BOT/catalog/products"])
    expect([path, await call(path)]).toMatchObject([path, { status: 404, body: { error: { code: "NOT_FOUND" } } }]);
  expect((await call("/ready")).status).toBe(200);
});

test("a route under another method: 405 METHOD_NOT_ALLOWED with Allow", async () => {
  const cases: [string, string, string][] = [
    ["PUT", "/api/auth/login", "POST"],
    ["HEAD", "/api/auth/login", "POST"],
    ["DELETE", "/ready", "GET, HEAD"],
    ["POST", "/api/images/00000000-0000-0000-0000-000000000000", "GET, HEAD"],
    ["PATCH", "/api/images/", "POST"],
    ["DELETE", "/api/chats", "GET, HEAD, POST"],
  ];
  for (const [method, path, allow] of cases) {
    const answer = await call(path, { method });
    expect([method, path, answer.status, answer.allow]).toEqual([method, path, 405, allow]);
    if (method !== "HEAD") expect(answer.body).toMatchObject({ error: { code: "METHOD_NOT_ALLOWED" } });
  }
  // A method the route takes is served as before; a path of no route stays 404.
  expect((await call("/ready", { method: "HEAD" })).status).toBe(200);
  expect(await call("/api/auth/login", { method: "POST" })).toMatchObject({
    status: 400,
    body: { error: { code: "VALIDATION_FAILED" } },
  });
  expect(await call("/api/no-such-route", { method: "DELETE" })).toMatchObject({ status: 404, allow: null });
  expect(await call("/api/images/a/b", { method: "POST" })).toMatchObject({ status: 404, allow: null });
});

test("/graphql takes its media type in any case", async () => {
  const answer = await call("/graphql", {
    method: "POST",
    headers: { "Content-Type": "APPLICATION/JSON; charset=UTF-8" },
    body: JSON.stringify({ query: "{ __typename }" }),
  });
  expect(answer).toMatchObject({ status: 200, body: { data: { __typename: "Query" } } });
});

test("Swagger UI serves the files its page loads and none other of its package", async () => {
  for (const file of ["swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "swagger-initializer.js", ""])
    expect([file, (await call(`/swagger-ui/${file}`)).status]).toEqual([file, 200]);
  for (const file of ["package.json", "README.md", "index.js", "swagger-ui.js", "oauth2-redirect.html"])
    expect([file, (await call(`/swagger-ui/${file}`)).status]).toEqual([file, 404]);
});
