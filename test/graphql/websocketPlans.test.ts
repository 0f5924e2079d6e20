/**
 * A running subscription keeps its operation's plan, outside the plan cache's budget. Distinct
 * documents are counted by their fields against a budget per client address and one for the
 * server (LivePlans, src/platform/websocketLimits.ts); subscriptions of one document share its plan
 * and count it once. Before, one signed-in client of a few addresses, within the operation caps,
 * subscribed with hundreds of distinct 200-field documents and the process died of a full heap.
 */
import { MAX_LIVE_PLAN_WEIGHT, MAX_LIVE_PLAN_WEIGHT_PER_ADDRESS } from "../../src/platform/websocketLimits.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestUser } from "../helpers/fixtures.ts";
import { until } from "../helpers/wait.ts";
import { type RawSocket, byId, openSocket } from "./websocketClient.ts";

// A server of each test's own: the budgets are the server's.
let app: TestApp;
let member: TestUser;

beforeEach(async () => {
  app = await startTestApp();
  member = await createUser(app.db.ownerPool, await createTenant(app.db.ownerPool), "member");
});
afterEach(() => app.stop());

const FIELDS = 200;
const SELECTION = Array.from({ length: FIELDS }, (_, j) => `a${j}: ${["title", "content", "kind"][j % 3]}`).join(" ");
/** A document of its own for `name`: notificationAdded, notification and 200 aliases. */
const document = (name: string) => `subscription ${name} { notificationAdded { notification { ${SELECTION} } } }`;
/** Its weight: its fields (2 + 200) plus two. */
const WEIGHT = FIELDS + 4;

const signedIn = (forwardedFor: string) =>
  openSocket(app, { payload: { authorization: `Bearer ${member.token}` }, forwardedFor });

let notices = 0;
/**
 * Sends subscriptions of the given documents under the given ids, then notifications to the member
 * until each has had a result: an admitted one the notification's data, a refused one its error.
 * Answers the ids refused and the refusal's details.
 */
async function subscribe(
  socket: RawSocket,
  subscriptions: Array<{ id: string; query: string; variables?: Record<string, unknown> }>,
): Promise<{ refused: string[]; details: Array<{ code: string; details: unknown }> }> {
  for (const { id, query, variables } of subscriptions)
    socket.ws.send(JSON.stringify({ id, type: "subscribe", payload: { query, variables } }));
  await until(async () => {
    await app.db.ownerPool.query(
      "insert into app_public.instant_notifications (tenant_id, recipient_id, kind, title, content) " +
        "values ($1, $2, 'test', $3, 'x')",
      [member.tenantId, member.id, `notice ${notices++}`],
    );
    return subscriptions.every(({ id }) =>
      byId(socket)
        .get(id)
        ?.some((message) => message.type === "next"),
    );
  }, "a result for every subscription");
  // A refused subscription gets one result with the error, then `complete`.
  type Errors = Array<{ extensions: { code: string; details: unknown } }>;
  const refusals = subscriptions.flatMap(({ id }) => {
    const result = byId(socket)
      .get(id)
      ?.find((message) => message.type === "next");
    const errors = (result?.payload as { errors?: Errors } | undefined)?.errors;
    return errors ? [{ id, errors }] : [];
  });
  return {
    refused: refusals.map(({ id }) => id),
    details: refusals.map(({ errors }) => ({
      code: errors[0]!.extensions.code,
      details: errors[0]!.extensions.details,
    })),
  };
}

test(
  `one address's live subscriptions hold plans of at most ${MAX_LIVE_PLAN_WEIGHT_PER_ADDRESS} fields: ` +
    "one document more is refused; a completed one frees its fields; subscriptions of one plan count it once",
  async () => {
    const fit = Math.floor(MAX_LIVE_PLAN_WEIGHT_PER_ADDRESS / WEIGHT);
    const socket = await signedIn("198.51.100.1");
    const distinct = Array.from({ length: fit + 1 }, (_, i) => ({ id: `d${i}`, query: document(`One${i}`) }));
    const first = await subscribe(socket, distinct);
    // One of them is refused: which, depends on the order their preparation ends.
    expect(first.refused).toHaveLength(1);
    expect(first.details).toEqual([
      {
        code: "RATE_LIMITED",
        details: {
          reason: "TOO_MANY_SUBSCRIBED_FIELDS",
          limit: MAX_LIVE_PLAN_WEIGHT_PER_ADDRESS,
          weight: WEIGHT,
          used: fit * WEIGHT,
        },
      },
    ]);
    const [admitted] = distinct.filter(({ id }) => !first.refused.includes(id));
    const refusedQuery = distinct.find(({ id }) => first.refused.includes(id))!.query;
    // Another address has budget of its own.
    const other = await signedIn("198.51.100.2");
    expect((await subscribe(other, [{ id: "elsewhere", query: refusedQuery }])).refused).toEqual([]);
    // Completing a subscription frees its fields: a new document takes them, twice over, since
    // subscriptions holding one plan count it once; one more document is refused again.
    socket.ws.send(JSON.stringify({ id: admitted!.id, type: "complete" }));
    const shared = await subscribe(socket, [
      { id: "shared1", query: document("Shared") },
      { id: "shared2", query: document("Shared") },
    ]);
    expect(shared.refused).toEqual([]);
    const full = await subscribe(socket, [{ id: "full", query: document("OneMore") }]);
    expect(full.details).toEqual(first.details);
    socket.ws.close(1000);
    other.ws.close(1000);
  },
);

test(`all addresses' live subscriptions together hold plans of at most ${MAX_LIVE_PLAN_WEIGHT} fields`, async () => {
  const fit = Math.floor(MAX_LIVE_PLAN_WEIGHT / WEIGHT);
  const perAddress = Math.floor(MAX_LIVE_PLAN_WEIGHT_PER_ADDRESS / WEIGHT);
  const sockets: RawSocket[] = [];
  let admitted = 0;
  for (let address = 0; admitted < fit; address++) {
    const socket = await signedIn(`203.0.113.${address + 1}`);
    sockets.push(socket);
    const count = Math.min(perAddress, fit - admitted);
    const batch = Array.from({ length: count }, (_, i) => ({ id: `s${i}`, query: document(`All${admitted + i}`) }));
    expect((await subscribe(socket, batch)).refused).toEqual([]);
    admitted += count;
  }
  const fresh = await signedIn("203.0.113.200");
  const refused = await subscribe(fresh, [{ id: "over", query: document("AllOver") }]);
  expect(refused.details).toEqual([
    {
      code: "RATE_LIMITED",
      details: {
        reason: "TOO_MANY_SUBSCRIBED_FIELDS",
        limit: MAX_LIVE_PLAN_WEIGHT,
        weight: WEIGHT,
        used: fit * WEIGHT,
      },
    },
  ]);
  // A document live elsewhere (and still in the server's cache of parsed documents) is shared, so admitted.
  const live = document(`All${fit - 1}`);
  expect((await subscribe(fresh, [{ id: "shared", query: live }])).refused).toEqual([]);
  for (const socket of [...sockets, fresh]) socket.ws.close(1000);
});

test("variables that decide the plan (@include) make plans of their own: each counts", async () => {
  // Fails on the code that counted a document once whatever its variables: 200 subscriptions of one
  // text, each with other @include values, held 200 plans and filled the heap.
  const socket = await signedIn("192.0.2.1");
  const text =
    "subscription Included($a: Boolean!, $b: Boolean!) { notificationAdded { notification { " +
    `${SELECTION} x: title @include(if: $a) y: content @include(if: $b) } } }`;
  const combinations = [
    { a: true, b: true },
    { a: true, b: false },
    { a: false, b: true },
  ];
  const { details } = await subscribe(
    socket,
    combinations.map((variables, i) => ({ id: `v${i}`, query: text, variables })),
  );
  const refusals = details.map((refusal) => refusal.details as { weight: number; used: number });
  // Two plans fit the address's budget; the third combination is a third plan, refused.
  expect(refusals).toHaveLength(1);
  const { weight, used } = refusals[0]!;
  expect(used).toBe(2 * weight);
  expect(2 * weight).toBeLessThanOrEqual(MAX_LIVE_PLAN_WEIGHT_PER_ADDRESS);
  expect(3 * weight).toBeGreaterThan(MAX_LIVE_PLAN_WEIGHT_PER_ADDRESS);
  socket.ws.close(1000);
});
