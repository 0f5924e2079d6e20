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

let marks = 0;
/**
 * Sends subscriptions of the given documents under the given ids, then a query; once the query is
 * answered, every subscription before it has been admitted (no message) or refused (an `error`).
 * Answers the ids refused and the refusal's details.
 */
async function subscribe(
  socket: RawSocket,
  subscriptions: Array<{ id: string; query: string }>,
): Promise<{ refused: string[]; details: unknown[] }> {
  for (const { id, query } of subscriptions)
    socket.ws.send(JSON.stringify({ id, type: "subscribe", payload: { query } }));
  const mark = `mark${marks++}`;
  socket.ws.send(JSON.stringify({ id: mark, type: "subscribe", payload: { query: "{ __typename }" } }));
  await until(() => byId(socket).get(mark)?.at(-1)?.type === "complete", "the query behind the subscriptions");
  const refusals = subscriptions.flatMap(({ id }) => {
    const error = byId(socket)
      .get(id)
      ?.find((message) => message.type === "error");
    return error ? [{ id, error }] : [];
  });
  return {
    refused: refusals.map(({ id }) => id),
    details: refusals.map(
      ({ error }) => (error.payload as Array<{ extensions: { code: string; details: unknown } }>)[0]!.extensions,
    ),
  };
}

test(
  `one address's live subscriptions hold plans of at most ${MAX_LIVE_PLAN_WEIGHT_PER_ADDRESS} fields: ` +
    "one document more is refused, the same document again is not, and a completed one frees its fields",
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
    const [live, another] = distinct.filter(({ id }) => !first.refused.includes(id));
    const refusedQuery = distinct.find(({ id }) => first.refused.includes(id))!.query;
    // The document of a live subscription costs nothing more: its plan is shared.
    const again = await subscribe(socket, [{ id: "again", query: live!.query }]);
    expect(again.refused).toEqual([]);
    // Another address has budget of its own.
    const other = await signedIn("198.51.100.2");
    expect((await subscribe(other, [{ id: "elsewhere", query: refusedQuery }])).refused).toEqual([]);
    // Completing the subscriptions of one document frees its fields for another.
    socket.ws.send(JSON.stringify({ id: another!.id, type: "complete" }));
    expect((await subscribe(socket, [{ id: "freed", query: refusedQuery }])).refused).toEqual([]);
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
