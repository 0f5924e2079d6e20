/**
 * GraphQL abuse limits, refused before any SQL or hashing: expensive identity mutations per
 * request, field selections (aliases and __typename included), tokens per document, exponential
 * fragments, page sizes through variable defaults.
 */
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestTenant, type TestUser } from "../helpers/fixtures.ts";
import { answerTo, openSocket } from "./websocketClient.ts";

let app: TestApp;
let tenant: TestTenant;
let member: TestUser;
beforeAll(async () => {
  app = await startTestApp({ env: { GRAPHQL_MAX_COST: "5000", GRAPHQL_MAX_PAGE_SIZE: "50" } });
  tenant = await createTenant(app.db.ownerPool, "abused");
  member = await createUser(app.db.ownerPool, tenant, "member");
});
afterAll(() => app.stop());

interface Body {
  data?: unknown;
  errors?: Array<{ message: string; extensions?: { code?: string; details?: { reason?: string } } }>;
}

/** POST /graphql asking for application/graphql-response+json (validation errors are 400 then). */
async function post(body: unknown, token?: string): Promise<{ status: number; body: Body }> {
  const response = await fetch(`${app.url}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Body };
}

const refusal = (response: { status: number; body: Body }) => ({
  status: response.status,
  code: response.body.errors?.[0]?.extensions?.code,
  reason: response.body.errors?.[0]?.extensions?.details?.reason,
  data: response.body.data,
});

const registrations = async (email: string) =>
  (await app.db.ownerPool.query("select 1 from app_private.registrations where email = $1", [email])).rows.length;
const queuedMail = async () =>
  (await app.db.ownerPool.query("select 1 from graphile_worker.jobs where task_identifier = 'send_email'")).rows.length;

const register = (alias: string, email: string) =>
  `${alias}: register(input: { tenant: "abused", email: "${email}", username: ` +
  `"${alias}${email.split("@")[0]}", password: "correct horse battery staple 9" }) { registrationToken }`;

test(
  "two or more expensive mutations in one request — aliased, through a fragment, or batched — are refused " +
    "before any hashing; one passes",
  async () => {
    const mailBefore = await queuedMail();
    const registers = Array.from({ length: 100 }, (_, i) => register(`r${i}`, "many@example.test")).join(" ");
    const hundred = `mutation { ${registers} }`;
    expect(refusal(await post({ query: hundred }))).toEqual({
      status: 400,
      code: "QUERY_TOO_COMPLEX",
      reason: "TOO_MANY_EXPENSIVE_FIELDS",
      data: undefined,
    });

    const mixed = `mutation { ...Both } fragment Both on Mutation {
    ${register("first", "mixed@example.test")}
    forgotPassword(input: { tenant: "abused", email: "${member.email}" }) { success } }`;
    expect(refusal(await post({ query: mixed }))).toEqual({
      status: 400,
      code: "QUERY_TOO_COMPLEX",
      reason: "TOO_MANY_EXPENSIVE_FIELDS",
      data: undefined,
    });

    // grafserv takes one operation per HTTP request: a batch (JSON array) is refused as a whole.
    const batch = await post([
      { query: `mutation { ${register("a", "batch@example.test")} }` },
      { query: `mutation { ${register("b", "batch@example.test")} }` },
    ]);
    expect(batch.status).toBe(400);

    expect(await registrations("many@example.test")).toBe(0);
    expect(await registrations("mixed@example.test")).toBe(0);
    expect(await registrations("batch@example.test")).toBe(0);
    expect(await queuedMail()).toBe(mailBefore);

    // enableTwoFactor writes a pending secret each time: aliased, it counts as the others do.
    const aliased = Array.from({ length: 3 }, (_, i) => `e${i}: enableTwoFactor { secret }`);
    const enables = `mutation { ${aliased.join(" ")} }`;
    expect(refusal(await post({ query: enables }, member.token))).toEqual({
      status: 400,
      code: "QUERY_TOO_COMPLEX",
      reason: "TOO_MANY_EXPENSIVE_FIELDS",
      data: undefined,
    });

    // What a client needs — one per request — still works.
    const single = await post({ query: `mutation { ${register("one", "single@example.test")} }` });
    expect(single.body.errors).toBeUndefined();
    expect(await registrations("single@example.test")).toBe(1);
  },
);

test(
  "every field selection counts, __typename included: " + "1,100 aliases are refused, and __typename adds to the cost",
  async () => {
    const aliases = `{ ${Array.from({ length: 1100 }, (_, i) => `a${i}: __typename`).join(" ")} }`;
    expect(refusal(await post({ query: aliases }, member.token))).toEqual({
      status: 400,
      code: "QUERY_TOO_COMPLEX",
      reason: "TOO_MANY_FIELDS",
      data: undefined,
    });

    // 50 rows × 200 __typename each: cost above 5000.
    const typenames = Array.from({ length: 200 }, (_, i) => `t${i}: __typename`).join(" ");
    const wide = `{ users(first: 50) { nodes { ${typenames} } } }`;
    expect(refusal(await post({ query: wide }, member.token))).toEqual({
      status: 400,
      code: "QUERY_TOO_COMPLEX",
      reason: "TOO_COSTLY",
      data: undefined,
    });

    const fine = await post({ query: `{ users(first: 5) { nodes { __typename rowId } } }` }, member.token);
    expect(fine.body.errors).toBeUndefined();
  },
);

test("a field of an interface (node) counts once for each type it may be: 400 aliases of it are refused", async () => {
  // Grafast plans a branch per possible type: 400 of these exhausted the heap in one request.
  const nodes = (count: number) =>
    `{ ${Array.from({ length: count }, (_, i) => `a${i}: node(id: "WyJVc2VyIiwiMSJd") { id }`).join(" ")} }`;
  const refused = await post({ query: nodes(400) });
  expect(refusal(refused)).toEqual({
    status: 400,
    code: "QUERY_TOO_COMPLEX",
    reason: "TOO_MANY_FIELDS",
    data: undefined,
  });
  expect(refused.body.errors?.[0]?.message).toMatch(/^The operation selects \d+ fields; at most 1000 are allowed\.$/);
  const fine = await post({ query: nodes(3) });
  expect(fine.status).toBe(200);
  expect(Object.keys(fine.body.data ?? {})).toEqual(["a0", "a1", "a2"]);
  expect((await fetch(`${app.url}/ready`)).status).toBe(200);
});

test("a fragment chain that doubles at each step is refused at once, not walked 2^30 times", async () => {
  const steps = 30;
  const fragments = Array.from(
    { length: steps },
    (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`,
  ).join("\n");
  const query = `query { ...F0 }\n${fragments}\nfragment F${steps} on Query { __typename }`;
  expect(refusal(await post({ query }, member.token))).toEqual({
    status: 400,
    code: "QUERY_TOO_COMPLEX",
    reason: "TOO_MANY_FIELDS",
    data: undefined,
  });
}, 30_000);

test("documents above 5,000 tokens are refused before parsing; a 1 MB body is refused by the body cap", async () => {
  const tokens = await post({ query: `{ ${"a ".repeat(12_000)}}` }, member.token);
  expect(refusal(tokens)).toEqual({
    status: 400,
    code: "QUERY_TOO_COMPLEX",
    reason: "TOO_MANY_TOKENS",
    data: undefined,
  });

  const huge = await post(JSON.stringify({ query: `{ ${" ".repeat(1_000_000)}__typename }` }), member.token);
  expect(huge.status).toBe(413);
  expect(huge.body.errors?.[0]?.extensions?.code).toBe("PAYLOAD_TOO_LARGE");
});

test("brackets nested past 100 are refused before parsing, not by the parser's stack overflowing", async () => {
  const deep = (depth: number) => `{ __type(name: ${"[".repeat(depth)}"x"${"]".repeat(depth)}) { name } }`;
  for (const query of [
    deep(2_000),
    `query ($v: String = ${"[".repeat(4_000)}1${"]".repeat(4_000)}) { __typename }`,
    `{ ${"a { ".repeat(150)}b${" }".repeat(150)} }`,
    // Closing brackets inside a string do not hide the openings.
    `{ __type(name: ${'[ "]" '.repeat(150)}"x"${" ]".repeat(150)}) { name } }`,
  ]) {
    expect(refusal(await post({ query }, member.token))).toEqual({
      status: 400,
      code: "QUERY_TOO_COMPLEX",
      reason: "TOO_DEEP",
      data: undefined,
    });
  }
  // Brackets inside a string or a comment are not nesting: that document runs.
  const stringy = await post({ query: `{ __type(name: "${"[".repeat(500)}") { name } } # ${"{".repeat(500)}` });
  expect(stringy.status).toBe(200);
  expect(stringy.body).toEqual({ data: { __type: null } });
});

test("variables nested past 100 are refused before anything walks them (they overflowed the stack)", async () => {
  const query =
    "mutation ($a: JSON, $bot: UUID!) { createBroadcast(input: { broadcast: " +
    '{ botId: $bot, text: "x", audience: $a } }) { clientMutationId } }';
  const bot = "00000000-0000-4000-8000-000000000000";
  const nested = (depth: number, leaf: unknown = 1) => {
    let value = leaf;
    for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
    return value;
  };
  // 5,000 levels written out by hand (JSON.stringify itself would overflow), then just past the cap.
  const bodies = [
    `{"query":${JSON.stringify(query)},"variables":{"bot":"${bot}","a":${"[".repeat(5_000)}${"]".repeat(5_000)}}}`,
    JSON.stringify({ query, variables: { a: nested(101), bot } }),
  ];
  for (const body of bodies) {
    for (const token of [undefined, member.token]) {
      expect(refusal(await post(body, token))).toEqual({
        status: 400,
        code: "QUERY_TOO_COMPLEX",
        reason: "TOO_DEEP",
        data: undefined,
      });
    }
  }
  // 100 levels (the variable itself one of them) reach the mutation, which answers as it would.
  const within = await post({ query, variables: { a: nested(99), bot } }, member.token);
  expect(within.body.errors?.[0]?.extensions?.code).not.toMatch(/QUERY_TOO_COMPLEX|INTERNAL/);
});

test("a page size given by a variable's default obeys the maximum", async () => {
  const query = "query ($n: Int = 100000) { users(first: $n) { nodes { rowId } } }";
  expect(refusal(await post({ query }, member.token))).toEqual({
    status: 400,
    code: "QUERY_TOO_COMPLEX",
    reason: "PAGE_TOO_LARGE",
    data: undefined,
  });
  // Through a fragment, and with the variable provided (above, then within the maximum).
  const viaFragment = "query ($n: Int = 51) { ...Page } fragment Page on Query { users(last: $n) { nodes { rowId } } }";
  expect(refusal(await post({ query: viaFragment }, member.token))).toMatchObject({
    code: "QUERY_TOO_COMPLEX",
    reason: "PAGE_TOO_LARGE",
  });
  const provided = await post(
    { query: "query ($n: Int = 10) { users(first: $n) { nodes { rowId } } }", variables: { n: 1000 } },
    member.token,
  );
  expect(refusal(provided)).toMatchObject({ code: "QUERY_TOO_COMPLEX", reason: "PAGE_TOO_LARGE" });
  const fine = await post({ query: "query ($n: Int = 50) { users(first: $n) { nodes { rowId } } }" }, member.token);
  expect(fine.body.errors).toBeUndefined();
});

test("a connection asked without first/last, or with first: null, returns one page, not every row", async () => {
  const crowd = await createTenant(app.db.ownerPool);
  const viewer = await createUser(app.db.ownerPool, crowd, "member");
  await app.db.ownerPool.query(
    "insert into app_public.users (tenant_id, email, username) select $1, 'crowd' || i || '@example.test', " +
      "'crowd' || i from generate_series(1, 80) as i",
    [crowd.id],
  );
  const page = async (args: string) => {
    const { body } = await post(
      { query: `{ users${args} { totalCount nodes { username } pageInfo { hasNextPage } } }` },
      viewer.token,
    );
    expect(body.errors).toBeUndefined();
    return (
      body.data as {
        users: { totalCount: number; nodes: Array<{ username: string }>; pageInfo: { hasNextPage: boolean } };
      }
    ).users;
  };
  // 80 bulk users, the viewer and the tenant's system user: 82 rows, pages of at most 50.
  for (const args of ["", "(first: null)", "(last: null)"]) {
    const users = await page(args);
    expect({
      args,
      totalCount: users.totalCount,
      returned: users.nodes.length,
      more: users.pageInfo.hasNextPage,
    }).toEqual({ args, totalCount: 82, returned: 50, more: true });
  }
  expect((await page("(first: 7)")).nodes).toHaveLength(7);
  // `last` alone still reads backwards from the end, unchanged by the default.
  const lastThree = await page("(last: 3, orderBy: USERNAME_ASC)");
  expect(lastThree.nodes.map((node) => node.username)).toEqual([
    "crowd9",
    "system",
    expect.stringMatching(/^u[0-9a-f]{8}$/),
  ]);
  // Nested connections too: the tenant's users through the current tenant.
  const nested = await post({ query: "{ currentTenant { users { nodes { rowId } } } }" }, viewer.token);
  expect(nested.body.errors).toBeUndefined();
  expect(
    (nested.body.data as { currentTenant: { users: { nodes: unknown[] } } }).currentTenant.users.nodes,
  ).toHaveLength(50);
});

test(
  "introspection is priced: more than two __schema/__type selections in one operation are refused; one full " +
    "introspection passes",
  async () => {
    const deep = "types { name fields { name args { name type { name ofType { name } } } } }";
    const aliased = Array.from({ length: 3 }, (_, i) => `s${i}: __schema { ${deep} }`).join(" ");
    expect(refusal(await post({ query: `{ ${aliased} }` }))).toEqual({
      status: 400,
      code: "QUERY_TOO_COMPLEX",
      reason: "TOO_MUCH_INTROSPECTION",
      data: undefined,
    });
    const viaFragment =
      `{ ...A ...B } fragment A on Query { a: __type(name: "User") { name } b: __type(name: "Event") { name } } ` +
      `fragment B on Query { __schema { queryType { name } } }`;
    expect(refusal(await post({ query: viaFragment }))).toMatchObject({
      code: "QUERY_TOO_COMPLEX",
      reason: "TOO_MUCH_INTROSPECTION",
    });
    const one = await post({ query: `{ __schema { ${deep} } __type(name: "User") { name } }` });
    expect(one.body.errors).toBeUndefined();
    // graphql-js's own introspection depth rule answers in the same terms.
    const cycle = "fields { type { fields { type { fields { type { fields { type { name } } } } } } } }";
    expect(refusal(await post({ query: `{ __type(name: "User") { ${cycle} } }` }))).toEqual({
      status: 400,
      code: "QUERY_TOO_COMPLEX",
      reason: "TOO_DEEP",
      data: undefined,
    });
  },
);

test(
  "a subscription sent over HTTP is refused at once (subscriptions are WebSocket-only); " + "nothing streams",
  async () => {
    const response = await fetch(`${app.url}/graphql`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json",
        authorization: `Bearer ${member.token}`,
      },
      body: JSON.stringify({ query: "subscription { notificationAdded { notification { rowId } } }" }),
    });
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await response.json()) as Body;
    expect(body.errors?.[0]?.extensions?.code).toBe("VALIDATION_FAILED");
    expect(body.errors?.[0]?.message).toMatch(/WebSocket/);
    expect(body.data).toBeUndefined();
  },
);

test("over WebSocket the same limits refuse with QUERY_TOO_COMPLEX and their reason", async () => {
  const run = (query: string) =>
    new Promise<unknown>((resolve) => {
      app.wsClient(member.token).subscribe(
        { query },
        {
          next: (value) => resolve({ next: value }),
          error: (error) => resolve({ error }),
          complete: () => resolve({ complete: true }),
        },
      );
    });
  const reasonOf = (outcome: unknown) => {
    const errors = (outcome as { error?: Body["errors"] }).error;
    return [errors?.[0]?.extensions?.code, errors?.[0]?.extensions?.details?.reason];
  };
  const two = `mutation { ${register("x", "socket@example.test")} ${register("y", "socket@example.test")} }`;
  expect(reasonOf(await run(two))).toEqual(["QUERY_TOO_COMPLEX", "TOO_MANY_EXPENSIVE_FIELDS"]);
  expect(reasonOf(await run(`{ ${"a ".repeat(12_000)}}`))).toEqual(["QUERY_TOO_COMPLEX", "TOO_MANY_TOKENS"]);
  expect(reasonOf(await run("query ($n: Int = 100000) { users(first: $n) { nodes { rowId } } }"))).toEqual([
    "QUERY_TOO_COMPLEX",
    "PAGE_TOO_LARGE",
  ]);
  expect(await registrations("socket@example.test")).toBe(0);
  // A variable 5,000 levels deep, written out by hand (a client's JSON.stringify would overflow first).
  const socket = await openSocket(app, { payload: { authorization: `Bearer ${member.token}` } });
  const variables = `{"v":${"[".repeat(5_000)}${"]".repeat(5_000)}}`;
  socket.ws.send(
    `{"id":"deep","type":"subscribe","payload":{"query":"query ($v: JSON) { __typename }","variables":${variables}}}`,
  );
  const deepVariable = await answerTo(socket, "deep");
  socket.ws.close();
  expect(deepVariable.type).toBe("error");
  const [error] = deepVariable.payload as NonNullable<Body["errors"]>;
  expect([error?.extensions?.code, error?.extensions?.details?.reason]).toEqual(["QUERY_TOO_COMPLEX", "TOO_DEEP"]);
});
