/**
 * Every REST JSON body is an object whose every key the route takes: JSON of another kind is
 * refused as NOT_AN_OBJECT (body-parser called it "not valid JSON"), and a key no route takes is
 * named, on identity's routes too (they had dropped it without a word). Every route under /api
 * meets these rules, the liveness alias and the image URLs included.
 */
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { sendRaw } from "../helpers/rawHttp.ts";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

const post = async (path: string, body: string, headers: Record<string, string> = {}) => {
  const response = await fetch(`${app.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  return [response.status, ((await response.json()) as { error?: unknown }).error];
};

const notAnObject = {
  code: "VALIDATION_FAILED",
  message: "The request body must be a JSON object.",
  details: { reason: "NOT_AN_OBJECT" },
};

test.each(["null", ' "x"', "[]", '[{"refreshToken": "x"}]', "1", "true\n", "\uFEFF[]", "\uFEFFnull"])(
  "the JSON body %j is refused as NOT_AN_OBJECT",
  async (body) => {
    expect(await post("/api/auth/refresh", body)).toEqual([400, notAnObject]);
    expect(await post("/api/auth/login", body)).toEqual([400, notAnObject]);
  },
);

test("text that is no JSON keeps its message; an empty body is still no body", async () => {
  expect(await post("/api/auth/refresh", "nul")).toEqual([
    400,
    { code: "VALIDATION_FAILED", message: "The request body is not valid JSON." },
  ]);
  const [status, error] = await post("/api/auth/refresh", "", { "x-refresh-token": "r".repeat(32) });
  expect([status, (error as { code: string }).code]).toEqual([401, "INVALID_TOKEN"]);
});

test("a key an identity route does not take is refused by name, a token in the header or not", async () => {
  const unknown = (fields: Record<string, string>) => ({
    code: "VALIDATION_FAILED",
    message: "Some fields are not valid.",
    details: { fields },
  });
  const token = "r".repeat(32);
  expect(await post("/api/auth/refresh", JSON.stringify({ refreshToken: token, keep: true }))).toEqual([
    400,
    unknown({ keep: "is not allowed here" }),
  ]);
  expect(await post("/api/auth/refresh", '{"keep": true}', { "x-refresh-token": token })).toEqual([
    400,
    unknown({ keep: "is not allowed here" }),
  ]);
  const login = { tenant: "demo", login: "someone", password: "x", rememberMe: true };
  expect(await post("/api/auth/login", JSON.stringify(login))).toEqual([
    400,
    unknown({ rememberMe: "is not allowed here" }),
  ]);
  // An empty key is named as written, not as the body ("input").
  expect(await post("/api/auth/login", JSON.stringify({ tenant: "demo", login: "x", password: "y", "": 1 }))).toEqual([
    400,
    unknown({ "": "is not allowed here" }),
  ]);
  const register = { tenant: "demo", email: "a@b.test", username: "ab", password: "x".repeat(12), fullname: "A B" };
  expect(await post("/api/auth/register", JSON.stringify(register))).toEqual([
    400,
    unknown({ fullname: "is not allowed here" }),
  ]);
  // The same fields without the stray key pass the shape check (and fail on what they say).
  const [status] = await post("/api/auth/refresh", "{}", { "x-refresh-token": token });
  expect(status).toBe(401);
});

const form = async (fields: Record<string, string | string[]>) => {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) for (const one of [value].flat()) body.append(key, one);
  const response = await fetch(`${app.url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
  });
  return [response.status, ((await response.json()) as { error?: { details?: unknown } }).error?.details];
};

test("an OAuth2 password form is held to its fields, and its fields are named as it wrote them", async () => {
  const base = { username: "someone@demo.test", password: "x", client_id: "demo" };
  expect(await form({ ...base, remember: "1" })).toEqual([400, { fields: { remember: "is not allowed here" } }]);
  expect(await form({ ...base, grant_type: "client_credentials" })).toEqual([
    400,
    { fields: { grant_type: "must be password" } },
  ]);
  expect(await form({ ...base, tenant: "other" })).toEqual([
    400,
    { fields: { tenant: "given twice: as tenant and as a different client_id" } },
  ]);
  // The form parser drops a `__proto__` field without a word; it is refused by name as any other.
  expect(await form({ ...base, ["__proto__"]: "x" })).toEqual([
    400,
    { fields: JSON.parse('{"__proto__": "is not allowed here"}') },
  ]);
  const [status, details] = await form({ ...base, username: ["a", "b"] });
  expect([status, Object.keys((details as { fields: object }).fields)]).toEqual([400, ["username"]]);
  // What OAuth2 clients send besides passes on to the password check.
  expect(await form({ ...base, grant_type: "password", scope: "", client_secret: "", tenant: "demo" })).toEqual([
    401,
    undefined,
  ]);
});

test("a route that takes no body refuses the keys of one", async () => {
  // logout takes its refresh token in the X-Refresh-Token header only: one in the body was ignored.
  expect(await post("/api/auth/logout", '{"refreshToken": "x"}')).toEqual([
    400,
    {
      code: "VALIDATION_FAILED",
      message: "Some fields are not valid.",
      details: { fields: { refreshToken: "is not allowed here" } },
    },
  ]);
  // An empty object is no key: past the body, the route answers as before (no session to end).
  const [status, error] = await post("/api/auth/logout", "{}");
  expect([status, (error as { code: string }).code]).toEqual([401, "UNAUTHENTICATED"]);
});

test("every route under /api meets the body rules first: its liveness alias and an image's URL too", async () => {
  // Fails on the code before the fix: both ignored any body, a cut-off or a UTF-16 one included.
  const get = async (path: string, body: string, type = "application/json") => {
    const answer = await sendRaw(
      app.url,
      `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: ${type}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    const status = Number(answer.split(" ")[1]);
    const json = answer.slice(answer.indexOf("\r\n\r\n") + 4);
    return [status, json ? (JSON.parse(json) as { error?: { code?: string } }).error?.code : undefined];
  };
  for (const path of ["/api/healthz", `/api/images/${crypto.randomUUID()}`]) {
    expect({ path, answer: await get(path, '{"a":') }).toEqual({ path, answer: [400, "VALIDATION_FAILED"] });
    expect({ path, answer: await get(path, '{"a":1}') }).toEqual({ path, answer: [400, "VALIDATION_FAILED"] });
    const utf16 = await get(path, "{}", "application/json; charset=utf-16");
    expect({ path, answer: utf16 }).toEqual({ path, answer: [415, "UNSUPPORTED_MEDIA_TYPE"] });
  }
  // Without a body they answer as before.
  expect(await get("/api/healthz", "")).toEqual([200, undefined]);
  expect(await get(`/api/images/${crypto.randomUUID()}`, "")).toEqual([404, "NOT_FOUND"]);
});
