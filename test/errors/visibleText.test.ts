/**
 * Text that shows nothing: required names and reasons refuse it (VALIDATION_FAILED naming the
 * field, reason BLANK, nothing written); optional texts store it as null, which is how updateEvent
 * clears one. A column's own check names its field too.
 */
import { createBroadcastStore, CREATE_BROADCAST } from "../broadcasts/helpers.ts";
import { bot, createStore, errorCodes, gql, type TestStore } from "../commerce/store.ts";
import { CREATE_EVENT, createEvent, inMinutes, newTenant, REJECT } from "../events/helpers.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { type Answer, firstError, refusal } from "./checkAnswers.ts";
import { createTenant, createUser } from "../helpers/fixtures.ts";
import { CREATE_GROUP, SEND } from "../messaging/helpers.ts";

let app: TestApp;
let store: TestStore;

beforeAll(async () => {
  app = await startTestApp();
  store = await createStore(app);
});
afterAll(() => app.stop());

/** Each shows nothing: spaces of every kind, format characters, fillers, lone marks, selectors, tags. */
const SHOWS_NOTHING = [
  "",
  " \t\n",
  "\u00a0\u3000",
  "\u200b\u200d",
  "\u202e",
  "\u3164",
  "\u2800",
  "\u115f\u1160\uffa0",
  "\u0301\u0302",
  "\ufe0f",
  "\u{e0020}\u{e0041}",
  "\u{e0101}",
  "\u2060\ufeff\u00ad",
  "\u{1d159}",
  "\u{16fe4}\u{13455}",
  "\ufff0\ufff8",
  "\u{e0080}\u{e0fff}",
];
const SHOWS_SOMETHING = [
  "a",
  "\u202eok",
  "e\u0301",
  "\u0627",
  "👩‍👩‍👧‍👦",
  "\u2764\ufe0f",
  "\u3164x",
  "·",
  "\u06dd",
  "\u0600",
  "\u{110bd}",
];

/**
 * What shows nothing, by Unicode's properties as Node reads them: White_Space, Cc, Cf but the
 * prepended concatenation marks (they have a glyph), Default_Ignorable_Code_Point, Mn, Me, and the
 * blank symbols U+2800 and U+1D159.
 */
const INVISIBLE = /^[\p{White_Space}\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\p{Mn}\p{Me}]$/u;
const PREPENDED_MARKS = new Set([
  0x600, 0x601, 0x602, 0x603, 0x604, 0x605, 0x6dd, 0x70f, 0x890, 0x891, 0x8e2, 0x110bd, 0x110cd,
]);
const BLANK_SYMBOLS = new Set([0x2800, 0x1d159]);
const showsNothing = (cp: number) =>
  BLANK_SYMBOLS.has(cp) || (!PREPENDED_MARKS.has(cp) && INVISIBLE.test(String.fromCodePoint(cp)));

/** Code points as ranges ("0300-036f"), so that a difference reads as one line. */
function ranges(codePoints: number[]): string[] {
  const out: Array<[number, number]> = [];
  for (const cp of codePoints) {
    const last = out.at(-1);
    if (last && last[1] === cp - 1) last[1] = cp;
    else out.push([cp, cp]);
  }
  return out.map(([a, b]) => (a === b ? a.toString(16) : `${a.toString(16)}-${b.toString(16)}`));
}

const blank = (field: string) => refusal(field, "BLANK");

test("app_hidden.is_visible_text tells text that shows something from text that does not", async () => {
  const { rows } = await app.db.ownerPool.query<{ value: string; visible: boolean }>(
    "select value, app_hidden.is_visible_text(value) as visible from unnest($1::text[]) value",
    [[...SHOWS_NOTHING, ...SHOWS_SOMETHING]],
  );
  expect(rows.filter((row) => row.visible).map((row) => row.value)).toEqual(SHOWS_SOMETHING);
});

test("app_hidden.is_visible_text agrees with Unicode's properties on every code point", async () => {
  const expected: number[] = [];
  for (let cp = 1; cp <= 0x10ffff; cp++) if ((cp < 0xd800 || cp > 0xdfff) && showsNothing(cp)) expected.push(cp);
  const { rows } = await app.db.ownerPool.query<{ cps: number[] }>(
    `select array_agg(cp order by cp) as cps from generate_series(1, 1114111) cp
     where (cp < 55296 or cp > 57343) and not app_hidden.is_visible_text(chr(cp))`,
  );
  expect(ranges(rows[0]!.cps)).toEqual(ranges(expected));
});

test("an event's name must show something; its optional texts that show nothing are stored as null", async () => {
  const { tenantId, manager } = await newTenant(app);
  const base = { startsAt: inMinutes(60), endsAt: inMinutes(120) };
  for (const name of SHOWS_NOTHING.slice(1)) {
    const answer = await app.graphql(CREATE_EVENT, { input: { ...base, name } }, manager.token);
    expect({ name, error: firstError(answer.body) }).toEqual({ name, error: blank("name") });
  }
  const count = await app.db.ownerPool.query("select count(*)::int as n from app_public.events where tenant_id = $1", [
    tenantId,
  ]);
  expect(count.rows[0].n).toBe(0);

  const id = await createEvent(app, manager.token, {
    name: "Talk",
    location: "\u3000",
    shortDescription: "\u200b",
    description: "Hall B",
  });
  const read = () =>
    app.db.ownerPool.query(
      "select location, short_description, description, rejection_reason from app_public.events where id = $1",
      [id],
    );
  expect((await read()).rows[0]).toEqual({
    location: null,
    short_description: null,
    description: "Hall B",
    rejection_reason: null,
  });

  // An empty string clears an optional text; an omitted one keeps it; a blank name is refused.
  const update = `mutation ($input: UpdateEventInput!) { updateEvent(input: $input) { event { description name } } }`;
  const cleared = await app.graphql(update, { input: { eventId: id, description: "" } }, manager.token);
  expect(cleared.body.data).toEqual({ updateEvent: { event: { description: null, name: "Talk" } } });
  const renamed = await app.graphql(update, { input: { eventId: id, name: "\u2800" } }, manager.token);
  expect(firstError(renamed.body)).toEqual(blank("name"));

  expect(errorCodes((await app.graphql(REJECT, { id, reason: " \u3164 " }, manager.token)).body)).toEqual([]);
  expect((await read()).rows[0].rejection_reason).toBeNull();
});

test("updateEvent with a capacity below 1 is VALIDATION_FAILED, and a column's own check names its field", async () => {
  const { manager } = await newTenant(app);
  const id = await createEvent(app, manager.token, { name: "Capacity", maxParticipantsCount: 10 });
  const update =
    "mutation ($input: UpdateEventInput!) { updateEvent(input: $input) { event { maxParticipantsCount } } }";
  for (const capacity of [0, -5]) {
    const answer = await app.graphql(update, { input: { eventId: id, maxParticipantsCount: capacity } }, manager.token);
    expect(firstError(answer.body)).toEqual({
      code: "VALIDATION_FAILED",
      field: "maxParticipantsCount",
      reason: "TOO_SMALL",
    });
  }
  const long = await app.graphql(
    CREATE_EVENT,
    { input: { name: "x".repeat(201), startsAt: inMinutes(60), endsAt: inMinutes(120) } },
    manager.token,
  );
  expect((long.body as Answer).errors?.[0]?.extensions?.details).toEqual({
    field: "name",
    constraint: "events_name_check",
  });
  const { rows } = await app.db.ownerPool.query("select max_participants_count from app_public.events where id = $1", [
    id,
  ]);
  expect(rows[0].max_participants_count).toBe(10);
});

test("commerce: names and a ledger reason must show something; a blank description is stored as null", async () => {
  const attempts: Array<[string, string, Record<string, unknown>, string]> = [
    [
      "category",
      "mutation($v: CategoryInput!) { createCategory(input: { category: $v }) { category { rowId } } }",
      { v: { name: "\u3164\u3164" } },
      "name",
    ],
    [
      "product",
      "mutation($v: ProductInput!) { createProduct(input: { product: $v }) { product { rowId } } }",
      { v: { name: "\u200b", price: "1.00" } },
      "name",
    ],
    ["bot", "mutation($n: String!) { createBot(input: { name: $n }) { bot { rowId } } }", { n: "\u2800" }, "name"],
    [
      "API key",
      "mutation($n: String!) { createApiKey(input: { name: $n }) { created { secret } } }",
      { n: " \u0301 " },
      "name",
    ],
  ];
  for (const [what, document, variables, field] of attempts) {
    const answer = await app.graphql(document, variables, store.admin.token);
    expect({ what, error: firstError(answer.body) }).toEqual({ what, error: blank(field) });
  }
  const customer = await bot(app, store).post("/api/bot/customers", { telegramId: 4242 });
  const adjust = await app.graphql(
    `mutation($c: UUID!) { adjustCustomerBalance(input: { customerId: $c, amount: "5", reason: "\u00a0" }) {
       transaction { rowId } } }`,
    { c: customer.body.id },
    store.admin.token,
  );
  expect(firstError(adjust.body)).toEqual(blank("reason"));
  const { rows } = await app.db.ownerPool.query(
    `select (select count(*) from app_public.categories where tenant_id = $1)::int as categories,
            (select count(*) from app_public.products where tenant_id = $1)::int as products,
            (select count(*) from app_public.bots where tenant_id = $1)::int as bots,
            (select count(*) from app_public.api_keys where tenant_id = $1)::int as keys,
            (select count(*) from app_public.transactions where tenant_id = $1)::int as ledger`,
    [store.tenant.id],
  );
  expect(rows[0]).toEqual({ categories: 0, products: 0, bots: 1, keys: 1, ledger: 0 });

  // A generated update: a blank name is BLANK too, and a null one names its field.
  const rename =
    "mutation($id: UUID!, $n: String) { updateBot(input: { rowId: $id, patch: { name: $n } }) { bot { name } } }";
  const blankName = await app.graphql(rename, { id: store.botId, n: "\u{1d159}" }, store.admin.token);
  expect(firstError(blankName.body)).toEqual(blank("name"));
  const nullName = await app.graphql(rename, { id: store.botId, n: null }, store.admin.token);
  expect((nullName.body as Answer).errors?.[0]?.extensions).toEqual({
    code: "VALIDATION_FAILED",
    details: { field: "name", column: "name" },
  });

  const product = await gql(
    app,
    store.admin.token,
    "mutation($v: ProductInput!) { createProduct(input: { product: $v }) { product { rowId description } } }",
    { v: { name: "Tea", price: "3.00", description: "\u3000\ufe0f" } },
  );
  expect(product.createProduct.product.description).toBeNull();
});

test("a user's full name that shows nothing is stored as null", async () => {
  const tenant = await createTenant(app.db.ownerPool);
  const admin = await createUser(app.db.ownerPool, tenant, "admin");
  const created = await gql(
    app,
    admin.token,
    `mutation { createUser(input: { email: "blank@example.test", username: "blank", fullName: "\u3164 " }) {
       user { rowId fullName } } }`,
  );
  expect(created.createUser.user.fullName).toBeNull();
});

test("a group title, a message body and a broadcast text of fillers, blanks, marks or tags are refused", async () => {
  const tenant = await createTenant(app.db.ownerPool);
  const ann = await createUser(app.db.ownerPool, tenant, "member");
  const bob = await createUser(app.db.ownerPool, tenant, "member");
  for (const title of ["\u3164", "\u2800", "\u0301", "\u{e0020}"]) {
    const answer = await app.graphql(CREATE_GROUP, { title, memberIds: [bob.id] }, ann.token);
    expect({ title, codes: errorCodes(answer.body) }).toEqual({ title, codes: ["VALIDATION_FAILED"] });
  }
  const chat = await gql(app, ann.token, CREATE_GROUP, { title: "Team", memberIds: [bob.id] });
  const chatId = chat.createGroupChat.chat.rowId;
  for (const body of ["\u3164", "\u2800\u2800", "\u0301", "\u{e0041}"]) {
    const answer = await app.graphql(SEND, { chatId, body }, ann.token);
    expect({ body, error: firstError(answer.body) }).toEqual({ body, error: blank("body") });
  }
  const messages = await app.db.ownerPool.query(
    "select count(*)::int as n from app_public.messages where chat_id = $1",
    [chatId],
  );
  expect(messages.rows[0].n).toBe(0);

  const broadcastStore = await createBroadcastStore(app);
  for (const text of ["\u3164", "\u2800", "\u{e0020}"]) {
    const answer = await app.graphql(
      CREATE_BROADCAST,
      { broadcast: { botId: broadcastStore.botId, text } },
      broadcastStore.admin.token,
    );
    expect({ text, error: firstError(answer.body) }).toEqual({ text, error: blank("text") });
  }
});
