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

test("duplicateKey reads any text without throwing: what is not JSON is left to the parser", () => {
  for (const text of ['{]"a":1}', '{}"a"', '{"a":1,}"b"', '[]"a":', '}}"a"', '{"a"', '"', "{", "]", ""])
    expect([text, duplicateKey(text)]).toEqual([text, undefined]);
  // Every text of five of these pieces, JSON or not, is read without an exception.
  const pieces = ["{", "}", "[", "]", ",", ":", '"a"', '"\\u0061"', "1"];
  let texts = [""];
  for (let length = 1; length <= 5; length++) texts = texts.flatMap((text) => pieces.map((piece) => text + piece));
  const thrown = texts.filter((text) => {
    try {
      duplicateKey(text);
      return false;
    } catch {
      return true;
    }
  });
  expect(thrown).toEqual([]);
  expect(texts.filter((text) => duplicateKey(text) === "a").length).toBeGreaterThan(0);
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

  test("text with a key where no object is open is no JSON: 400 VALIDATION_FAILED, never 403 or 500", async () => {
    for (const body of ['{]"a":1}', '{}"a"', '{"a":1,}"b"']) {
      const answer = await login(body);
      const json = (await answer.json()) as { error: { code: string } };
      expect([body, answer.status, json.error.code]).toEqual([body, 400, "VALIDATION_FAILED"]);
    }
  });
});

describe("over /graphql (HTTP)", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  type Answer = { errors?: Array<{ message: string; extensions?: { code?: string; details?: unknown } }> };
  const refusedTwice = async (response: Response) => {
    const body = (await response.json()) as Answer;
    return [response.status, body.errors?.[0]?.extensions];
  };
  const twice = [400, { code: "VALIDATION_FAILED", details: { reason: "DUPLICATE_KEY" } }];
  const post = (body: string) =>
    fetch(`${app.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body });
  const get = (search: string) => fetch(`${app.url}/graphql?${search}`, { headers: { accept: "application/json" } });
  const query = encodeURIComponent("query ($a: Boolean!) { __typename @include(if: $a) }");

  test("a key twice in the body or in variables, or a parameter twice in a GET, is DUPLICATE_KEY", async () => {
    expect(await refusedTwice(await post('{"query":"{ __typename }","query":"{ currentUser { id } }"}'))).toEqual(
      twice,
    );
    expect(
      await refusedTwice(await post('{"query":"query ($a: Int) { __typename }","variables":{"a":1,"a":2}}')),
    ).toEqual(twice);
    expect(await refusedTwice(await get(`query=${query}&query=${encodeURIComponent("{ __typename }")}`))).toEqual(
      twice,
    );
    expect(await refusedTwice(await get(`query=${query}&variables={}&variables={}`))).toEqual(twice);
    expect(await refusedTwice(await get(`query=${query}&variables=${encodeURIComponent('{"a":1,"a":2}')}`))).toEqual(
      twice,
    );
    // The same keys in separate objects, and one of each parameter, are fine.
    const fine = await post(
      '{"query":"query ($a: Boolean!) { __typename @include(if: $a) }","variables":{"a":true},"extensions":{"a":1}}',
    );
    expect([fine.status, await fine.json()]).toEqual([200, { data: { __typename: "Query" } }]);
    const fineGet = await get(`query=${query}&variables=${encodeURIComponent('{"a":true}')}`);
    expect([fineGet.status, await fineGet.json()]).toEqual([200, { data: { __typename: "Query" } }]);
  });
});
