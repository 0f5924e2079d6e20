/**
 * /graphql is served by its own lane of middlewares, not by Express's router. Everything Express gave
 * it must still be there: security and CORS headers, the request id, the log line, the metrics, the
 * error table, and the 404 for paths that are not the endpoint.
 */
import request from "supertest";
import { startTestApp, type TestApp } from "../helpers/app.ts";

const ORIGIN = "https://app.example.test";
const logLines: string[] = [];
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ logLines, env: { CORS_ORIGINS: ORIGIN } });
});
afterAll(() => app.stop());

/** Headers that say something about one answer's body or connection, not about the server's policy. */
const PER_ANSWER = new Set(["content-type", "content-length", "date", "connection", "keep-alive", "x-request-id"]);

test("a GraphQL answer carries every security and CORS header a REST answer does, with the same values", async () => {
  const rest = await request(app.url).get("/health").set("Origin", ORIGIN);
  const graphql = await request(app.url).post("/graphql").set("Origin", ORIGIN).send({ query: "{ __typename }" });
  expect(graphql.status).toBe(200);
  expect(graphql.body).toEqual({ data: { __typename: "Query" } });
  const policy = Object.entries(rest.headers).filter(([name]) => !PER_ANSWER.has(name));
  expect(policy.map(([name]) => name)).toEqual(
    expect.arrayContaining(["x-frame-options", "strict-transport-security", "access-control-allow-origin"]),
  );
  for (const [name, value] of policy) expect([name, graphql.headers[name]]).toEqual([name, value]);
  expect(graphql.headers["x-powered-by"]).toBeUndefined();
});

test("a preflight for /graphql is answered by the CORS policy", async () => {
  const response = await request(app.url)
    .options("/graphql")
    .set("Origin", ORIGIN)
    .set("Access-Control-Request-Method", "POST")
    .set("Access-Control-Request-Headers", "authorization,content-type");
  expect(response.status).toBe(204);
  expect(response.headers["access-control-allow-origin"]).toBe(ORIGIN);
  expect(response.headers["access-control-max-age"]).toBe("600");
  const other = await request(app.url).options("/graphql").set("Origin", "https://elsewhere.example.test");
  expect(other.headers["access-control-allow-origin"]).toBeUndefined();
});

test("a GraphQL request gets its request id, one log line and its count in the metrics", async () => {
  const counted = async () => {
    const metrics = (await request(app.url).get("/metrics")).text;
    const line = metrics
      .split("\n")
      .find(
        (l) =>
          l.startsWith("tessera_http_requests_total{") && l.includes('route="/graphql"') && l.includes('status="200"'),
      );
    return Number(line?.split(" ").at(-1) ?? 0);
  };
  const before = await counted();
  const response = await request(app.url)
    .post("/graphql?ignored=1")
    .set("X-Request-Id", "lane-trace-7")
    .send({ query: "{ __typename }" });
  expect(response.status).toBe(200);
  expect(response.headers["x-request-id"]).toBe("lane-trace-7");
  const lines = logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines.filter((l) => l.requestId === "lane-trace-7" && l.msg === "request")).toEqual([
    expect.objectContaining({ method: "POST", path: "/graphql", status: 200 }),
  ]);
  expect(await counted()).toBe(before + 1);
});

test("refusals in the lane answer from the error table, GraphQL-shaped", async () => {
  const refusals: Array<[header: string, value: string, status: number, code: string]> = [
    ["Accept", "not a media type", 400, "VALIDATION_FAILED"],
    // A quoted value ending in a backslash: grafserv reads `\"` as an escaped quote and failed with a 500.
    ["Accept", 'application/json;a="\\"', 400, "VALIDATION_FAILED"],
    ["Accept", 'application/json;a="x\\"', 400, "VALIDATION_FAILED"],
    ["Authorization", "Bearer not.a.token", 401, "UNAUTHENTICATED"],
  ];
  for (const [header, value, status, code] of refusals) {
    const response = await request(app.url).post("/graphql").set(header, value).send({ query: "{ __typename }" });
    expect([header, response.status, response.body.errors[0].extensions.code]).toEqual([header, status, code]);
    expect([header, response.headers["x-frame-options"]]).toEqual([header, "SAMEORIGIN"]);
  }
});

test("only the exact path is the endpoint: the others get the REST 404", async () => {
  for (const path of ["/graphql/", "/graphqlx", "/GRAPHQL"]) {
    const response = await request(app.url).post(path).send({ query: "{ __typename }" });
    expect([path, response.status, response.body.error?.code]).toEqual([path, 404, "NOT_FOUND"]);
  }
});
