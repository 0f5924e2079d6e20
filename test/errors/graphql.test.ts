/**
 * Errors that tell the truth over GraphQL: client mistakes get a 4xx or their code and are not
 * logged as errors; server faults are INTERNAL and logged once at error level with the request id.
 */
import { startTestApp, type GraphQLBody, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestUser } from "../helpers/fixtures.ts";
import { CREATE_EVENT, createEvent, inMinutes } from "../events/helpers.ts";

let app: TestApp;
let manager: TestUser;
const logLines: string[] = [];

beforeAll(async () => {
  app = await startTestApp({ logLines });
  const tenant = await createTenant(app.db.ownerPool);
  manager = await createUser(app.db.ownerPool, tenant, "manager");
});
afterAll(() => app.stop());

const code = (body: GraphQLBody) => body.errors?.[0]?.extensions?.code;
const errorLines = () =>
  logLines
    .map((line) => JSON.parse(line) as { level: number; requestId?: string; msg: string })
    .filter((line) => line.level >= 50);

async function post(body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${app.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as GraphQLBody, headers: response.headers };
}

describe("Datetime takes RFC 3339 timestamps only", () => {
  test.each([
    "infinity",
    "-infinity",
    "epoch",
    "now",
    "tomorrow",
    "2026-13-01T00:00:00Z",
    "2026-02-30T10:00:00Z",
    "2026-11-23",
    "2026-11-23T10:00:00",
    // In range as written, outside years 1–9999 as an instant (1 BC; rounded into year 10000).
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59.9999999Z",
    "9999-12-31T20:00:00-15:59",
    "2026-11-23T10:00:00+99:99",
    // A leap second: PostgreSQL cannot hold one and would store the next minute.
    "2027-03-01T10:00:60Z",
    "2016-12-31T23:59:60Z",
  ])("%s is refused with VALIDATION_FAILED and nothing is stored", async (value) => {
    const before = logLines.length;
    const asVariable = await app.graphql(
      CREATE_EVENT,
      { input: { name: `v ${value}`, startsAt: inMinutes(60), endsAt: value } },
      manager.token,
    );
    expect(code(asVariable.body)).toBe("VALIDATION_FAILED");
    const asLiteral = await app.graphql(
      `mutation { createEvent(input: { name: "l", startsAt: ${JSON.stringify(value)}, ` +
        `endsAt: ${JSON.stringify(inMinutes(90))} }) { event { rowId } } }`,
      {},
      manager.token,
    );
    expect(code(asLiteral.body)).toBe("VALIDATION_FAILED");
    const { rows } = await app.db.ownerPool.query(
      "select count(*)::int as n from app_public.events where not isfinite(ends_at) or name like 'v %' or name = 'l'",
    );
    expect(rows[0].n).toBe(0);
    expect(logLines.slice(before).filter((line) => JSON.parse(line).level >= 50)).toEqual([]);
  });

  /** Creates an event through GraphQL; answers its startsAt as the API gives it back. */
  async function createdStart(name: string, startsAt: string, endsAt: string): Promise<string> {
    const { body } = await app.graphql(CREATE_EVENT, { input: { name, startsAt, endsAt } }, manager.token);
    expect(body.errors).toBeUndefined();
    return (body.data as { createEvent: { event: { startsAt: string } } }).createEvent.event.startsAt;
  }

  test("the first and last instants of years 1–9999 are accepted; the first comes back as that instant", async () => {
    const startsAt = await createdStart("edges", "0001-01-01T14:00:00+14:00", "9999-12-31T23:59:59.999999Z");
    expect(startsAt).toBe("0001-01-01T00:00:00.000000+00:00");
  });

  test("offsets other than Z are accepted and keep their instant", async () => {
    const startsAt = await createdStart("offset", "2099-06-01T12:00:00+03:00", "2099-06-01T14:30:00.5+03:00");
    expect(Date.parse(startsAt)).toBe(Date.parse("2099-06-01T09:00:00Z"));
  });

  test("the database refuses a non-finite time even from a caller that bypasses GraphQL", async () => {
    await expect(
      app.db.ownerPool.query(
        "insert into app_public.events (tenant_id, name, starts_at, ends_at) values ($1, 'x', now(), 'infinity')",
        [manager.tenantId],
      ),
    ).rejects.toMatchObject({ code: "23514", constraint: "events_times_finite" });
  });
});

describe("client mistakes are 4xx with their code, never INTERNAL, and are not logged as errors", () => {
  test(
    "a malformed UUID or out-of-range Int in a variable is VALIDATION_FAILED " + "(HTTP 400 for graphql-response+json)",
    async () => {
      const before = logLines.length;
      for (const accept of ["application/json", "application/graphql-response+json"]) {
        const uuid = await post(
          { query: "query ($id: UUID!) { event(rowId: $id) { name } }", variables: { id: "not-a-uuid" } },
          { accept, authorization: `Bearer ${manager.token}` },
        );
        expect(code(uuid.body)).toBe("VALIDATION_FAILED");
        expect(uuid.body.errors?.[0]?.message).toMatch(/\$id/);
        const big = await post(
          {
            query: CREATE_EVENT,
            variables: {
              input: { name: "big", startsAt: inMinutes(60), endsAt: inMinutes(90), maxParticipantsCount: 1e300 },
            },
          },
          { accept, authorization: `Bearer ${manager.token}` },
        );
        expect(code(big.body)).toBe("VALIDATION_FAILED");
        if (accept !== "application/json") expect([uuid.status, big.status]).toEqual([400, 400]);
      }
      expect(logLines.slice(before).filter((line) => JSON.parse(line).level >= 50)).toEqual([]);
    },
  );

  test("a refused variable's long value is echoed cut, not whole (twice)", async () => {
    const long = `${"x".repeat(10_000)}"\\end`;
    const { body } = await app.graphql(
      "query ($n: Int) { events(first: $n) { nodes { rowId } } }",
      { n: long },
      manager.token,
    );
    const message = body.errors?.[0]?.message ?? "";
    expect(code(body)).toBe("VALIDATION_FAILED");
    expect(message).toMatch(/^Variable "\$n" got invalid value "x{80}…"; Int cannot represent/);
    expect(message.length).toBeLessThan(300);
    const short = await app.graphql(
      "query ($n: Int) { events(first: $n) { nodes { rowId } } }",
      { n: "abc" },
      manager.token,
    );
    expect(short.body.errors?.[0]?.message).toContain('"abc"');
  });

  test("a garbage cursor is VALIDATION_FAILED", async () => {
    const { body } = await app.graphql(`{ events(after: "garbage") { nodes { rowId } } }`, {}, manager.token);
    expect(code(body)).toBe("VALIDATION_FAILED");
  });

  test("a node id that nests values, or whose key is not its column's type, names no node (null)", async () => {
    const nodeId = (json: string) => Buffer.from(json).toString("base64");
    const nested = [
      nodeId(`["Product",${"[".repeat(5000)}${"]".repeat(5000)}]`),
      nodeId(`["Product",${'{"a":'.repeat(5000)}1${"}".repeat(5000)}]`),
      nodeId('["Product",["0b1f0000-0000-4000-8000-000000000000"]]'),
      // A key of another type than the column's, or a key too many: PostgreSQL's cast refused it.
      nodeId('["Product","not-a-uuid"]'),
      nodeId('["Product",1]'),
      nodeId('["Product","0b1f0000-0000-4000-8000-000000000000","x"]'),
    ];
    // PostGraphile warns of an undecodable id in development, printing it whole: kept out of the output.
    const warn = console.warn;
    console.warn = () => {};
    try {
      for (const id of nested) {
        for (const token of [undefined, manager.token]) {
          const query = `query ($i: ID!) { node(id: $i) { id } productById(id: $i) { id } }`;
          const { body } = await app.graphql(query, { i: id }, token);
          const signedIn = token !== undefined;
          expect([signedIn, body]).toEqual([signedIn, { data: { node: null, productById: null } }]);
        }
      }
    } finally {
      console.warn = warn;
    }
    // A mutation by node id finds no row to change.
    const update =
      `mutation ($i: ID!) { updateProductById(input: { id: $i, patch: { name: "x" } }) ` + "{ product { id } } }";
    for (const id of nested)
      expect((await app.graphql(update, { i: id }, manager.token)).body).toEqual({ data: { updateProductById: null } });
    // A well-formed id still names its node.
    const { body } = await app.graphql(`{ currentUser { id } }`, {}, manager.token);
    const id = (body.data as { currentUser: { id: string } }).currentUser.id;
    const found = await app.graphql(`query ($i: ID!) { node(id: $i) { id } }`, { i: id }, manager.token);
    expect(found.body).toEqual({ data: { node: { id } } });
  });

  test("an enormous search text is refused before it reaches the text-search parser", async () => {
    const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(" ");
    // 45,000 words do not fit the request body limit; 5,000 (about 30 kB) fit, and meet the 256-character guard.
    const huge = await app.graphql(`query ($s: String) { searchEvents(search: $s) { totalCount } }`, {
      s: words(45_000),
    });
    expect([huge.status, code(huge.body)]).toEqual([413, "PAYLOAD_TOO_LARGE"]);
    const { body } = await app.graphql(`query ($s: String) { searchEvents(search: $s) { totalCount } }`, {
      s: words(5_000),
    });
    expect(code(body)).toBe("VALIDATION_FAILED");
    expect(body.errors?.[0]?.message).toMatch(/256/);
    const ok = await app.graphql(`query ($s: String) { searchEvents(search: $s) { totalCount } }`, { s: "jazz" });
    expect(ok.body.errors).toBeUndefined();
  });

  test(
    "required SQL arguments are required in GraphQL: " + "createEvent(input: {}) fails validation, not at run time",
    async () => {
      const { body } = await app.graphql(`mutation { createEvent(input: {}) { event { rowId } } }`, {}, manager.token);
      expect(code(body)).toBe("VALIDATION_FAILED");
      expect(body.errors?.[0]?.message).toMatch(/name|startsAt/);
    },
  );
});

describe("queries over GET", () => {
  test(
    "a query runs over GET (urql's default); " + "a mutation over GET is 405 METHOD_NOT_ALLOWED and changes nothing",
    async () => {
      const query = new URLSearchParams({ query: "{ __typename }" });
      const get = await fetch(`${app.url}/graphql?${query}`, { headers: { accept: "application/json" } });
      expect(get.status).toBe(200);
      expect(await get.json()).toEqual({ data: { __typename: "Query" } });

      const mutation = new URLSearchParams({
        query:
          `mutation { createEvent(input: { name: "via get", startsAt: "2099-01-01T00:00:00Z", endsAt: ` +
          `"2099-01-01T01:00:00Z" }) { event { rowId } } }`,
      });
      const refused = await fetch(`${app.url}/graphql?${mutation}`, {
        headers: { accept: "application/json", authorization: `Bearer ${manager.token}` },
      });
      expect(refused.status).toBe(405);
      expect(((await refused.json()) as GraphQLBody).errors?.[0]?.extensions?.code).toBe("METHOD_NOT_ALLOWED");
      const { rows } = await app.db.ownerPool.query(
        "select count(*)::int as n from app_public.events where name = 'via get'",
      );
      expect(rows[0].n).toBe(0);
    },
  );

  test.each([
    ["an operationName the document lacks", { query: "{ __typename }", operationName: "Nope" }],
    ["two operations and no operationName", { query: "query A { __typename } query B { __typename }" }],
  ])("a GET with %s is 400 VALIDATION_FAILED, as over POST", async (_, params) => {
    const get = await fetch(`${app.url}/graphql?${new URLSearchParams(params)}`, {
      headers: { accept: "application/json" },
    });
    expect(get.status).toBe(400);
    expect(((await get.json()) as GraphQLBody).errors?.[0]?.extensions?.code).toBe("VALIDATION_FAILED");
    const post = await fetch(`${app.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(params),
    });
    expect(code((await post.json()) as GraphQLBody)).toBe("VALIDATION_FAILED");
  });

  test("a PUT to /graphql stays 405 METHOD_NOT_ALLOWED; an Accept naming nothing served is 406", async () => {
    const send = (method: string, accept: string) =>
      fetch(`${app.url}/graphql`, {
        method,
        headers: { "content-type": "application/json", accept },
        body: JSON.stringify({ query: "{ __typename }" }),
      });
    const put = await send("PUT", "application/json");
    expect(put.status).toBe(405);
    expect(code((await put.json()) as GraphQLBody)).toBe("METHOD_NOT_ALLOWED");
    // grafserv wrote these two without a charset, where every other answer names it.
    expect(put.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const xml = await send("POST", "application/xml");
    expect(xml.status).toBe(406);
    expect(code((await xml.json()) as GraphQLBody)).toBe("NOT_ACCEPTABLE");
    expect(xml.headers.get("content-type")).toBe("application/json; charset=utf-8");
  });

  test("a subscription over GET is refused as over POST (WebSocket only), not sent to POST", async () => {
    const query = "subscription { tenantModuleChanged { event } }";
    for (const params of [
      { query } as Record<string, string>,
      { query: `query Q { __typename } ${query.replace("subscription", "subscription S")}`, operationName: "S" },
    ]) {
      const get = await fetch(`${app.url}/graphql?${new URLSearchParams(params)}`, {
        headers: { accept: "application/graphql-response+json" },
      });
      const post = await fetch(`${app.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/graphql-response+json" },
        body: JSON.stringify(params),
      });
      expect(get.status).toBe(400);
      expect(get.headers.get("allow")).toBeNull();
      const [refusedGet, refusedPost] = [(await get.json()) as GraphQLBody, (await post.json()) as GraphQLBody];
      expect(refusedGet.errors).toMatchObject([
        { message: refusedPost.errors?.[0]?.message, extensions: { code: "VALIDATION_FAILED" } },
      ]);
      expect(refusedGet.errors?.[0]?.message).toMatch(/WebSocket/);
    }
  });
});

describe("server faults", () => {
  test("a null in a non-null field is INTERNAL, logged once at error level with the request id", async () => {
    const id = await createEvent(app, manager.token, { name: "Broken" });
    // Only a superuser can put the row in a state our constraints forbid: the schema's promise breaks.
    await app.db.rootPool.query("alter table app_public.events drop constraint events_times_finite");
    try {
      await app.db.rootPool.query("update app_public.events set ends_at = 'infinity' where id = $1", [id]);
      const before = logLines.length;
      const requestId = `fault-${Date.now()}`;
      const { body } = await post(
        { query: `{ events { nodes { rowId endsAt } } }` },
        { authorization: `Bearer ${manager.token}`, "x-request-id": requestId },
      );
      expect(code(body)).toBe("INTERNAL");
      const errors = logLines
        .slice(before)
        .map((line) => JSON.parse(line) as { level: number; requestId?: string })
        .filter((line) => line.level >= 50);
      expect(errors.filter((line) => line.requestId === requestId)).toHaveLength(1);
    } finally {
      await app.db.rootPool.query("delete from app_public.events where id = $1", [id]);
      await app.db.rootPool.query(
        "alter table app_public.events add constraint events_times_finite check (isfinite(starts_at) and " +
          "isfinite(ends_at))",
      );
    }
  });
});

test("no error-level line was logged for anything but the deliberate fault", () => {
  expect(errorLines().filter((line) => !line.requestId?.startsWith("fault-"))).toEqual([]);
});

describe("the HTTP envelope of /graphql", () => {
  test.each([";;;,,==", "*/*;q=abc", "application/json;q=2", "text/html,"])(
    "a malformed Accept %j is 400 VALIDATION_FAILED, not 500",
    async (accept) => {
      const before = logLines.length;
      const response = await post({ query: "{ __typename }" }, { accept });
      expect(response.status).toBe(400);
      expect(code(response.body)).toBe("VALIDATION_FAILED");
      expect(logLines.slice(before).filter((line) => JSON.parse(line).level >= 50)).toEqual([]);
    },
  );

  test("well-formed Accept headers with parameters still work", async () => {
    const response = await post(
      { query: "{ __typename }" },
      {
        accept:
          "application/graphql-response+json; charset=utf-8; q=0.9, application/json;q=0.5, */*;q=0.1, " +
          'text/x-y;a="b c"',
      },
    );
    expect(response.status).toBe(200);
  });

  test.each([
    [{ "content-type": "application/json", "content-encoding": "gzip" }, "Content-Encoding"],
    [{ "content-type": "application/json", "content-encoding": "x-unknown" }, "Content-Encoding"],
    [{ "content-type": "application/json; charset=latin1" }, "charset"],
  ])("a body declared as %j is 415 UNSUPPORTED_MEDIA_TYPE (its %s)", async (headers, what) => {
    const response = await fetch(`${app.url}/graphql`, {
      method: "POST",
      headers: { ...headers, accept: "application/json" },
      body: '{"query":"{ __typename }"}',
    });
    expect(response.status).toBe(415);
    const body = (await response.json()) as GraphQLBody;
    expect(body.errors?.[0]?.extensions?.code).toBe("UNSUPPORTED_MEDIA_TYPE");
    expect(body.errors?.[0]?.message).toContain(what);
  });

  test("UTF-8 and identity bodies, in any spelling, still work", async () => {
    const headers = { "content-type": 'application/json; charset="UTF-8"', "content-encoding": "Identity" };
    const response = await fetch(`${app.url}/graphql`, {
      method: "POST",
      headers: { ...headers, accept: "application/json" },
      body: '{"query":"{ __typename }"}',
    });
    expect(response.status).toBe(200);
  });

  test("a body that is not JSON or GraphQL is 415 UNSUPPORTED_MEDIA_TYPE", async () => {
    const response = await fetch(`${app.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "text/plain", accept: "application/json" },
      body: '{"query":"{ __typename }"}',
    });
    expect(response.status).toBe(415);
    expect(((await response.json()) as GraphQLBody).errors?.[0]?.extensions?.code).toBe("UNSUPPORTED_MEDIA_TYPE");
  });
});

test("a negative page size or offset, and a value not of its type, say what is wrong", async () => {
  // Fails on the code before the fix: each was "The input is not valid.", naming nothing.
  const messages = async (query: string, variables = {}) =>
    (await app.graphql(query, variables, manager.token)).body.errors?.map((error) => [
      error.extensions?.code,
      error.message,
    ]);
  const negative = [["VALIDATION_FAILED", "A page size (first, last) must not be negative."]];
  expect(await messages("{ events(first: -1) { totalCount } }")).toEqual(negative);
  // With pageInfo the connection reads one row more: -1 became LIMIT 0, an empty page with a next one.
  expect(await messages("{ events(first: -1) { nodes { rowId } pageInfo { hasNextPage } } }")).toEqual(negative);
  expect(await messages("{ events(last: -1) { nodes { rowId } pageInfo { hasPreviousPage } } }")).toEqual(negative);
  const query = "query($n: Int) { users(first: $n) { nodes { rowId } pageInfo { hasNextPage } } }";
  expect(await messages(query, { n: -1 })).toEqual(negative);
  expect(await messages("{ searchEvents(offset: -1) { totalCount } }")).toEqual([
    ["VALIDATION_FAILED", "An offset must not be negative."],
  ]);
  // A cursor of the right shape whose key is not of its column's type (the users' id, a UUID).
  const page = await app.graphql("{ users(first: 1) { pageInfo { endCursor } } }", {}, manager.token);
  const cursor = (page.body.data as { users: { pageInfo: { endCursor: string } } }).users.pageInfo.endCursor;
  const [digest] = JSON.parse(Buffer.from(cursor, "base64").toString()) as [string, string];
  const forged = Buffer.from(JSON.stringify([digest, "not-a-uuid"])).toString("base64");
  expect(await messages("query($c: Cursor) { users(first: 1, after: $c) { totalCount } }", { c: forged })).toEqual([
    [
      "VALIDATION_FAILED",
      "A value is not of the type it is used as: an id, a number, a date or a cursor of another form.",
    ],
  ]);
});
