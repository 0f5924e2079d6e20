/**
 * A name is one line of text: control characters (Cc) and the line and paragraph separators are
 * refused in the names and titles that lists, logs and Telegram messages show (VALIDATION_FAILED
 * naming the field, reason CONTROL_CHARACTER, nothing written), on every path that writes one.
 * Texts of several lines (descriptions, message bodies) keep their line breaks.
 */
import request from "supertest";
import { createStore, errorCodes, gql, type TestStore } from "../commerce/store.ts";
import { CREATE_EVENT, createEvent, inMinutes, newTenant } from "../events/helpers.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { firstError, refusal } from "./checkAnswers.ts";
import { createTenant, createUser } from "../helpers/fixtures.ts";
import { CREATE_GROUP, rest, SEND } from "../messaging/helpers.ts";

let app: TestApp;
let store: TestStore;

beforeAll(async () => {
  app = await startTestApp();
  store = await createStore(app);
});
afterAll(() => app.stop());

/** Each shows something and holds a control character or a line break of another kind. */
const NOT_ONE_LINE = [
  "Night\nTalk",
  "Tab\there",
  "\u001b[31mRed",
  "Bell\u0007",
  "C1\u0085next",
  "Line\u2028separator",
  "Para\u2029graph",
  "\rCarriage",
  "Del\u007f",
];

const control = (field: string) => refusal(field, "CONTROL_CHARACTER");

test("app_hidden.is_one_line_text refuses exactly the controls and separators in text that shows", async () => {
  const { rows } = await app.db.ownerPool.query<{ cps: number[] }>(
    `select array_agg(cp order by cp) as cps
     from (select generate_series(1, 65535) union all select generate_series(65536, 1114111, 97)) as all_cp (cp)
     where (cp < 55296 or cp > 57343) and not app_hidden.is_one_line_text('x' || chr(cp))`,
  );
  // Every code point of the Basic Multilingual Plane (where all of them are), and a sample of the others.
  const expected: number[] = [];
  for (let cp = 1; cp <= 0xffff; cp++) {
    if ((cp < 0xd800 || cp > 0xdfff) && /^[\p{Cc}\u2028\u2029]$/u.test(String.fromCodePoint(cp))) expected.push(cp);
  }
  expect(rows[0]!.cps).toEqual(expected);
  // Text that shows nothing is the visible check's to refuse (BLANK), and a right-to-left name passes.
  const passes = await app.db.ownerPool.query<{ value: string }>(
    "select value from unnest($1::text[]) value where app_hidden.is_one_line_text(value)",
    [[" \t\n", "\u2028", "\u05e9\u05dc\u05d5\u05dd", "Caf\u00e9 \u{1f389}", ...NOT_ONE_LINE]],
  );
  expect(passes.rows.map((row) => row.value)).toEqual([
    " \t\n",
    "\u2028",
    "\u05e9\u05dc\u05d5\u05dd",
    "Caf\u00e9 \u{1f389}",
  ]);
});

test("an event's name must be one line; its description keeps its line breaks", async () => {
  const { tenantId, manager } = await newTenant(app);
  const base = { startsAt: inMinutes(60), endsAt: inMinutes(120) };
  for (const name of NOT_ONE_LINE) {
    const answer = await app.graphql(CREATE_EVENT, { input: { ...base, name } }, manager.token);
    expect({ name, error: firstError(answer.body) }).toEqual({ name, error: control("name") });
  }
  const count = await app.db.ownerPool.query("select count(*)::int as n from app_public.events where tenant_id = $1", [
    tenantId,
  ]);
  expect(count.rows[0].n).toBe(0);

  const id = await createEvent(app, manager.token, { name: "Talk", description: "Hall B\nSecond floor\tleft" });
  const rename = await app.graphql(
    "mutation ($input: UpdateEventInput!) { updateEvent(input: $input) { event { name } } }",
    { input: { eventId: id, name: "Talk\r\nTwo" } },
    manager.token,
  );
  expect(firstError(rename.body)).toEqual(control("name"));
  const { rows } = await app.db.ownerPool.query("select name, description from app_public.events where id = $1", [id]);
  expect(rows[0]).toEqual({ name: "Talk", description: "Hall B\nSecond floor\tleft" });
});

test("commerce: category, product, bot and API key names must be one line", async () => {
  const attempts: Array<[string, string, Record<string, unknown>]> = [
    [
      "category",
      "mutation($v: CategoryInput!) { createCategory(input: { category: $v }) { category { rowId } } }",
      { v: { name: "Tea\nCoffee" } },
    ],
    [
      "product",
      "mutation($v: ProductInput!) { createProduct(input: { product: $v }) { product { rowId } } }",
      { v: { name: "\u001b]8;;https://evil.test\u0007Tea", price: "1.00" } },
    ],
    ["bot", "mutation($n: String!) { createBot(input: { name: $n }) { bot { rowId } } }", { n: "Shop\u2028bot" }],
    ["API key", "mutation($n: String!) { createApiKey(input: { name: $n }) { created { secret } } }", { n: "ci\tkey" }],
  ];
  for (const [what, document, variables] of attempts) {
    const answer = await app.graphql(document, variables, store.admin.token);
    expect({ what, error: firstError(answer.body) }).toEqual({ what, error: control("name") });
  }
  const rename =
    "mutation($id: UUID!, $n: String) { updateBot(input: { rowId: $id, patch: { name: $n } }) { bot { name } } }";
  expect(firstError((await app.graphql(rename, { id: store.botId, n: "Store\nbot" }, store.admin.token)).body)).toEqual(
    control("name"),
  );
  const { rows } = await app.db.ownerPool.query(
    `select (select count(*) from app_public.categories where tenant_id = $1)::int as categories,
            (select count(*) from app_public.products where tenant_id = $1)::int as products,
            (select array_agg(name) from app_public.bots where tenant_id = $1) as bots,
            (select count(*) from app_public.api_keys where tenant_id = $1)::int as keys`,
    [store.tenant.id],
  );
  expect(rows[0]).toEqual({ categories: 0, products: 0, bots: ["Store bot"], keys: 1 });
});

test("a group title must be one line, over GraphQL and REST; a message body keeps its line breaks", async () => {
  const tenant = await createTenant(app.db.ownerPool);
  const ann = await createUser(app.db.ownerPool, tenant, "member");
  const bob = await createUser(app.db.ownerPool, tenant, "member");
  const graphql = await app.graphql(CREATE_GROUP, { title: "Team\nA", memberIds: [bob.id] }, ann.token);
  expect(firstError(graphql.body)).toEqual(control("title"));
  const restAnswer = await rest(app, ann.token, "POST", "/api/chats", {
    kind: "group",
    title: "Team\u0085B",
    memberIds: [bob.id],
  });
  expect([restAnswer.status, restAnswer.body]).toMatchObject([
    400,
    { error: { code: "VALIDATION_FAILED", details: { field: "title", reason: "CONTROL_CHARACTER" } } },
  ]);
  const chats = await app.db.ownerPool.query("select count(*)::int as n from app_public.chats where tenant_id = $1", [
    tenant.id,
  ]);
  expect(chats.rows[0].n).toBe(0);

  const chat = await gql(app, ann.token, CREATE_GROUP, { title: "Team", memberIds: [bob.id] });
  const sent = await app.graphql(SEND, { chatId: chat.createGroupChat.chat.rowId, body: "Hi\nall" }, ann.token);
  expect(errorCodes(sent.body)).toEqual([]);
});

test("a user's full name must be one line, from an admin and at registration", async () => {
  const tenant = await createTenant(app.db.ownerPool);
  const admin = await createUser(app.db.ownerPool, tenant, "admin");
  const created = await app.graphql(
    `mutation { createUser(input: { email: "lines@example.test", username: "lines", fullName: "Ann\\nLee" }) {
       user { rowId } } }`,
    {},
    admin.token,
  );
  expect(firstError(created.body)).toEqual(control("fullName"));
  const registered = await request(app.url).post("/api/auth/register").send({
    tenant: tenant.slug,
    email: "lines@example.test",
    username: "lines",
    fullName: "Ann\u0007Lee",
    password: "a long enough passphrase 42",
  });
  expect([registered.status, registered.body.error?.details?.fields]).toEqual([
    400,
    { fullName: "must be one line of text, without control characters" },
  ]);
  const { rows } = await app.db.ownerPool.query(
    "select count(*)::int as n from app_public.users where email = 'lines@example.test'",
  );
  expect(rows[0].n).toBe(0);
});
