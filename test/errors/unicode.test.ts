/**
 * Text that is not Unicode is refused with 400 VALIDATION_FAILED (`details.reason` NOT_UNICODE) and
 * nothing is written: bytes that are not UTF-8, %-escapes that spell such bytes, and lone surrogates
 * escaped in JSON. Before, each was stored as U+FFFD and answered 200. Real Unicode (emoji, escaped
 * surrogate pairs, RTL text) goes through unchanged.
 */
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestUser } from "../helpers/fixtures.ts";
import { CREATE_EVENT, inMinutes } from "../events/helpers.ts";
import { answerTo, openSocket } from "../graphql/websocketClient.ts";

let app: TestApp;
let manager: TestUser;
const logLines: string[] = [];

beforeAll(async () => {
  app = await startTestApp({ logLines });
  manager = await createUser(app.db.ownerPool, await createTenant(app.db.ownerPool), "manager");
});
afterAll(() => app.stop());

type Answer = { errors?: Array<{ extensions?: { code?: string; details?: { reason?: string } } }> };
type RestAnswer = { error?: { code?: string; details?: { reason?: string } } };

const errorLevelLines = () => logLines.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);

/** The JSON text of a createEvent request whose name is `nameJson` (already JSON: quotes and escapes). */
function createEventBody(nameJson: string): string {
  const input = { startsAt: inMinutes(60 * 24), endsAt: inMinutes(60 * 25), name: "§" };
  return JSON.stringify({ query: CREATE_EVENT, variables: { input } }).replace('"§"', nameJson);
}

async function postGraphql(body: string | Buffer, headers: Record<string, string> = {}) {
  const response = await fetch(`${app.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", ...headers },
    body,
  });
  return { status: response.status, body: (await response.json()) as Answer & { data?: unknown } };
}

const eventNames = async () =>
  (
    await app.db.ownerPool.query<{ name: string }>("select name from app_public.events where tenant_id = $1", [
      manager.tenantId,
    ])
  ).rows.map((row) => row.name);

/** UTF-32 little-endian bytes of a text. */
function utf32le(text: string): Buffer {
  const points = [...text].map((char) => char.codePointAt(0)!);
  const bytes = Buffer.alloc(points.length * 4);
  points.forEach((point, i) => bytes.writeUInt32LE(point, i * 4));
  return bytes;
}

function expectNotUnicode(status: number, body: Answer): void {
  expect(status).toBe(400);
  expect(body.errors?.[0]?.extensions?.code).toBe("VALIDATION_FAILED");
  expect(body.errors?.[0]?.extensions?.details?.reason).toBe("NOT_UNICODE");
}

describe("GraphQL over HTTP", () => {
  const auth = () => ({ authorization: `Bearer ${manager.token}` });

  test.each([
    ["a lone high surrogate", '"Gala \\ud800"'],
    ["a lone low surrogate", '"\\udc00 Gala"'],
    ["a reversed pair", '"\\ude00\\ud83d"'],
    ["a high surrogate before a raw emoji", '"Gala \\ud83d😀"'],
    ["a lone surrogate hidden by a duplicate key", '"Gala \\ud800", "name": "Gala"'],
    ["a lone surrogate in an unknown field", '"Gala", "\\ud800": 1'],
  ])("a variable with %s is refused and nothing is written", async (_, name) => {
    const before = await eventNames();
    const { status, body } = await postGraphql(createEventBody(name), auth());
    expectNotUnicode(status, body);
    expect(await eventNames()).toEqual(before);
  });

  test.each([
    ["Latin-1 bytes", Buffer.from([0x47, 0xe4, 0x6c, 0x61])],
    ["a cut-off sequence", Buffer.from([0x47, 0xe2, 0x82])],
    ["an encoded surrogate", Buffer.from([0xed, 0xa0, 0x80])],
    ["an overlong slash", Buffer.from([0xc0, 0xaf])],
  ])("a body with %s is refused and nothing is written", async (_, bytes) => {
    const before = await eventNames();
    const [head, tail] = createEventBody('"§"').split("§") as [string, string];
    const body = Buffer.concat([Buffer.from(head), bytes, Buffer.from(tail)]);
    const signedIn = await postGraphql(body, auth());
    expectNotUnicode(signedIn.status, signedIn.body);
    // Without a token, and sent chunked: same answer.
    const anonymous = await postGraphql(body);
    expectNotUnicode(anonymous.status, anonymous.body);
    const chunked = await fetch(`${app.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", ...auth() },
      body: new Blob([body]).stream(),
      duplex: "half",
    } as RequestInit);
    expectNotUnicode(chunked.status, (await chunked.json()) as Answer);
    expect(await eventNames()).toEqual(before);
  });

  test("a document with a lone surrogate in a string is refused", async () => {
    const { status, body } = await postGraphql(
      '{"query":"{ searchEvents(search: \\"\\ud800\\") { totalCount } }"}',
      auth(),
    );
    expectNotUnicode(status, body);
  });

  test("a NUL character (not allowed in PostgreSQL text) is VALIDATION_FAILED saying so; nothing written", async () => {
    const before = await eventNames();
    const { status, body } = await postGraphql(createEventBody('"Gala\\u0000night"'), auth());
    expect([status, body.errors?.[0]]).toEqual([
      200,
      expect.objectContaining({
        message: "Text must not contain the NUL character (U+0000).",
        extensions: { code: "VALIDATION_FAILED" },
      }),
    ]);
    expect(await eventNames()).toEqual(before);
  });

  test("emoji, an escaped surrogate pair and RTL text are stored exactly", async () => {
    const name = "Gala 😀 \ud83c\udf89 שלום";
    const { status, body } = await postGraphql(createEventBody('"Gala \\ud83d\\ude00 🎉 שלום"'), auth());
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(await eventNames()).toContain(name);
  });

  test("a GET whose %-escapes are not UTF-8 is refused; escaped UTF-8 and a lone % are read", async () => {
    const query = "query ($s: String) { searchEvents(search: $s) { totalCount } }";
    const get = (variables: string) =>
      fetch(`${app.url}/graphql?query=${encodeURIComponent(query)}&variables=${variables}`, {
        headers: { accept: "application/json", ...auth() },
      });
    for (const variables of ["%7B%22s%22%3A%22%FF%22%7D", encodeURIComponent('{"s":"\\ud800","s":"x"}')]) {
      const bad = await get(variables);
      expectNotUnicode(bad.status, (await bad.json()) as Answer);
    }
    for (const variables of [
      encodeURIComponent(JSON.stringify({ s: "😀 100%" })),
      // A % that starts no escape is kept as sent.
      `${encodeURIComponent('{"s":"100')}%${encodeURIComponent('"}')}`,
    ]) {
      const good = await get(variables);
      expect(good.status).toBe(200);
      expect(((await good.json()) as Answer).errors).toBeUndefined();
    }
  });
});

describe("over the WebSocket, a message that is not Unicode closes the socket and nothing is written", () => {
  const subscribe = (variables: string) => {
    const payload = createEventBody(variables);
    return `{"id":"1","type":"subscribe","payload":${payload}}`;
  };
  test.each([
    ["a variable with a lone surrogate", 4400, subscribe('"Gala \\ud800"')],
    ["an id with a lone surrogate", 4400, subscribe('"Gala"').replace('"id":"1"', '"id":"1\\udc00"')],
    ["a lone surrogate behind a duplicate key", 4400, subscribe('"Gala \\ud800", "name": "Gala"')],
    [
      "bytes that are not UTF-8, in a binary frame",
      4400,
      Buffer.concat(
        subscribe('"§"')
          .split("§")
          .flatMap((part, i) => (i ? [Buffer.from([0x47, 0xff]), Buffer.from(part)] : [Buffer.from(part)])),
      ),
    ],
  ])("%s: closed with %d", async (_, closeCode, message) => {
    const socket = await openSocket(app, { payload: { authorization: `Bearer ${manager.token}` } });
    const before = await eventNames();
    socket.ws.send(message, { binary: Buffer.isBuffer(message) });
    expect((await socket.closed).code).toBe(closeCode);
    expect(await eventNames()).toEqual(before);
  });

  test("a binary frame of UTF-8 is read as before", async () => {
    const socket = await openSocket(app, { payload: { authorization: `Bearer ${manager.token}` } });
    try {
      socket.ws.send(Buffer.from(subscribe('"Binary 😀"')), { binary: true });
      expect((await answerTo(socket, "1")).type).toBe("next");
      expect(await eventNames()).toContain("Binary 😀");
    } finally {
      socket.ws.close();
    }
  });
});

describe("REST", () => {
  const chats = async () =>
    (
      await app.db.ownerPool.query("select count(*)::int as n from app_public.chats where tenant_id = $1", [
        manager.tenantId,
      ])
    ).rows[0].n as number;

  async function createChat(body: string | Buffer, contentType = "application/json") {
    const response = await fetch(`${app.url}/api/chats`, {
      method: "POST",
      headers: { "content-type": contentType, authorization: `Bearer ${manager.token}` },
      body,
    });
    return { status: response.status, body: (await response.json()) as RestAnswer & { title?: string } };
  }

  function expectRestNotUnicode(status: number, body: RestAnswer): void {
    expect(status).toBe(400);
    expect(body.error?.code).toBe("VALIDATION_FAILED");
    expect(body.error?.details?.reason).toBe("NOT_UNICODE");
  }

  test.each([
    ["a lone surrogate", Buffer.from('{"kind":"group","title":"Team \\ud800","memberIds":[]}')],
    [
      "bytes that are not UTF-8",
      Buffer.concat([
        Buffer.from('{"kind":"group","title":"T'),
        Buffer.from([0xff, 0x22, 0x2c]),
        Buffer.from('"memberIds":[]}'),
      ]),
    ],
  ])("a JSON body with %s is refused and no chat is created", async (_, body) => {
    const before = await chats();
    const { status, body: answer } = await createChat(body);
    expectRestNotUnicode(status, answer);
    expect(await chats()).toBe(before);
  });

  test("a lone surrogate hidden by a duplicate key is refused", async () => {
    const { status, body } = await createChat('{"kind":"group","title":"T\\ud800","title":"T","memberIds":[]}');
    expectRestNotUnicode(status, body);
  });

  test.each(["utf-16le", "utf-16", "utf-32le", "utf-32"])(
    "a JSON body in %s is 415 UNSUPPORTED_MEDIA_TYPE, as on /graphql",
    async (charset) => {
      const before = await chats();
      const text = '{"kind":"group","title":"Tëam","memberIds":[]}';
      const body = charset.startsWith("utf-16") ? Buffer.from(text, "utf16le") : utf32le(text);
      const { status, body: answer } = await createChat(body, `application/json; charset=${charset}`);
      expect(status).toBe(415);
      expect(answer.error?.code).toBe("UNSUPPORTED_MEDIA_TYPE");
      expect(await chats()).toBe(before);
    },
  );

  test("a lone surrogate under 40,000 levels of arrays is found (no stack overflow, no 500)", async () => {
    const deep = `${"[".repeat(40_000)}"\\ud800"${"]".repeat(40_000)}`;
    const rest = await createChat(`{"kind":"group","title":"T","memberIds":[],"x":${deep}}`);
    expectRestNotUnicode(rest.status, rest.body);
    const graphql = await postGraphql(`{"query":"{ __typename }","variables":{"x":${deep}}}`, {
      authorization: `Bearer ${manager.token}`,
    });
    expectNotUnicode(graphql.status, graphql.body);
  });

  test("a form body whose %-escapes are not UTF-8 is refused", async () => {
    const before = await chats();
    const { status, body } = await createChat("kind=group&title=T%E4m", "application/x-www-form-urlencoded");
    expectRestNotUnicode(status, body);
    expect(await chats()).toBe(before);
  });

  test("a query string whose %-escapes are not UTF-8 is refused; escaped UTF-8 is read", async () => {
    const list = (search: string) =>
      fetch(`${app.url}/api/chats?${search}`, { headers: { authorization: `Bearer ${manager.token}` } });
    const bad = await list("sort=%C3");
    expectRestNotUnicode(bad.status, (await bad.json()) as RestAnswer);
    expect((await list("sort=%2DlastMessageAt")).status).toBe(200);
  });

  test("an emoji title is stored exactly", async () => {
    const { status, body } = await createChat(
      JSON.stringify({ kind: "group", title: "Team 😀 \u05e9", memberIds: [] }),
    );
    expect(status).toBe(201);
    expect(body.title).toBe("Team 😀 \u05e9");
  });

  test("none of these refusals is logged as an error", () => {
    expect(errorLevelLines()).toEqual([]);
  });
});
