/**
 * A REST JSON body that gives one key twice in one object is refused (400 VALIDATION_FAILED,
 * `details.reason` DUPLICATE_KEY): JSON.parse keeps the last, where a proxy or a log in front may
 * read the first (`{"telegramId": 2, "telegramId": 1}` placed an order for customer 1).
 */
import { duplicateKey } from "../../src/platform/http/unicode.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";

test("duplicateKey finds a key given twice in one object, escapes decoded, and nothing else", () => {
  expect(duplicateKey('{"a": 1, "a": 2}')).toBe("a");
  expect(duplicateKey('{"a": 1, "\\u0061": 2}')).toBe("a");
  expect(duplicateKey('{"x": {"b": [1, {"c": 1, "c": 2}]}}')).toBe("c");
  expect(duplicateKey('{"x": "a\\"b", "y": {"a": 1}, "z": [{"a": 1}, {"a": 2}], "a": "{\\"a\\":1}"}')).toBe(undefined);
  expect(duplicateKey('[{"a": 1}, {"a": 1}]')).toBe(undefined);
  expect(duplicateKey('{"a": [1, 2], "b": "a"}')).toBe(undefined);
  expect(duplicateKey('{"a\\ud83d\\ude00": 1, "a😀": 2}')).toBe("a😀");
});

describe("over REST", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  const login = (body: string) =>
    fetch(`${app.url}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body });

  test("a key twice is VALIDATION_FAILED DUPLICATE_KEY; the same keys in separate objects are fine", async () => {
    const twice = await login('{"tenant": "demo", "login": "someone", "login": "other", "password": "x"}');
    expect([twice.status, await twice.json()]).toEqual([
      400,
      {
        error: {
          code: "VALIDATION_FAILED",
          message: 'The body gives the key "login" twice in one object.',
          details: { reason: "DUPLICATE_KEY" },
        },
      },
    ]);
    const once = await login('{"tenant": "no-such-tenant", "login": "someone", "password": "x"}');
    expect(once.status).toBe(401);
  });
});
