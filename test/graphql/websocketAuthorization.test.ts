/**
 * GraphQL over WebSocket: a connection_init `authorization` that is not a string fails operations
 * with UNAUTHENTICATED, never anonymously. The server carries on after each.
 */
import WebSocket from "ws";
import { createTenant, createUser } from "../helpers/fixtures.ts";
import { answerTo, app, openSocket, useWebSocketApp } from "./websocketClient.ts";

useWebSocketApp();

test.each([
  ["{}", {}],
  ["[]", []],
  ['["x"]', ["x"]],
  ['["Bearer <token>"]', "token-list"],
  ["false", false],
  ["true", true],
  ["0", 0],
  ["1", 1],
  ['{ "a": 1 }', { a: 1 }],
])(
  "a connection_init authorization of %s fails each operation with UNAUTHENTICATED, never anonymously",
  async (_name, value) => {
    // Fails on the code before the fix for {}, [], ["x"], ["Bearer <token>"] and { a: 1 }: they ran anonymously.
    const tenant = await createTenant(app.db.ownerPool);
    const member = await createUser(app.db.ownerPool, tenant, "member");
    const authorization = value === "token-list" ? [`Bearer ${member.token}`] : value;
    const socket = await openSocket(app, { payload: { authorization } });
    socket.ws.send(JSON.stringify({ id: "op", type: "subscribe", payload: { query: "{ __typename }" } }));
    const answer = await answerTo(socket, "op");
    expect(answer).toMatchObject({
      type: "error",
      payload: [expect.objectContaining({ extensions: { code: "UNAUTHENTICATED" } })],
    });
    socket.ws.close(1000);
  },
);

test("the authorization key twice (any case) is UNAUTHENTICATED; absent, null and empty are anonymous", async () => {
  // Fails on the code before the fix for the key twice: it ran anonymously.
  const tenant = await createTenant(app.db.ownerPool);
  const member = await createUser(app.db.ownerPool, tenant, "member");
  const twice = await openSocket(app, {
    payload: { Authorization: `Bearer ${member.token}`, authorization: `Bearer ${member.token}` },
  });
  twice.ws.send(JSON.stringify({ id: "op", type: "subscribe", payload: { query: "{ __typename }" } }));
  expect(await answerTo(twice, "op")).toMatchObject({
    type: "error",
    payload: [
      expect.objectContaining({
        message: expect.stringContaining("more than once"),
        extensions: { code: "UNAUTHENTICATED" },
      }),
    ],
  });
  twice.ws.close(1000);

  for (const payload of [{}, { authorization: null }, { authorization: "" }, undefined]) {
    const socket = await openSocket(app, { payload });
    socket.ws.send(JSON.stringify({ id: "op", type: "subscribe", payload: { query: "{ __typename }" } }));
    expect(await answerTo(socket, "op")).toEqual({
      id: "op",
      type: "next",
      payload: { data: { __typename: "Query" } },
    });
    socket.ws.close(1000);
  }
  // A string token in any key case signs in.
  const signedIn = await openSocket(app, { payload: { AUTHORIZATION: `Bearer ${member.token}` } });
  signedIn.ws.send(JSON.stringify({ id: "op", type: "subscribe", payload: { query: "{ currentUser { id } }" } }));
  expect(await answerTo(signedIn, "op")).toMatchObject({
    type: "next",
    payload: { data: { currentUser: { id: expect.any(String) } } },
  });
  signedIn.ws.close(1000);
});

test("an anonymous subscription is refused with one error before it runs; the socket stays usable", async () => {
  // Fails on the code before the fix: it was planned and run, then ended with a `next` carrying the
  // plan's UNAUTHENTICATED and a `complete`.
  const socket = await openSocket(app);
  const subscriptions = [
    "subscription { notificationAdded { notification { id title } } }",
    "subscription Changes { tenantModuleChanged { event tenantModule { enabled } } }",
  ];
  for (const [index, query] of subscriptions.entries()) {
    const id = `sub${index}`;
    socket.ws.send(JSON.stringify({ id, type: "subscribe", payload: { query } }));
    expect(await answerTo(socket, id)).toEqual({
      id,
      type: "error",
      payload: [{ message: "Sign in to subscribe.", extensions: { code: "UNAUTHENTICATED" } }],
    });
  }
  // A query on the same socket is still answered, anonymously.
  socket.ws.send(JSON.stringify({ id: "query", type: "subscribe", payload: { query: "{ __typename }" } }));
  expect(await answerTo(socket, "query")).toEqual({
    id: "query",
    type: "next",
    payload: { data: { __typename: "Query" } },
  });
  // Nothing more came for the refused ids (an `error` ends an operation in graphql-ws).
  expect(socket.messages.filter((message) => String(message.id).startsWith("sub"))).toHaveLength(subscriptions.length);
  socket.ws.close(1000);
});

test("@skip or @include on a subscription's root field is VALIDATION_FAILED, whatever the variables", async () => {
  // Fails on the code before the fix: INTERNAL ("selection set cannot be empty", or a variable
  // "not provided a runtime value" even for @include(if: $x) with x true).
  const tenant = await createTenant(app.db.ownerPool);
  const member = await createUser(app.db.ownerPool, tenant, "member");
  const socket = await openSocket(app, { payload: { authorization: `Bearer ${member.token}` } });
  const cases: Array<[string, Record<string, unknown>?]> = [
    ["subscription { notificationAdded @skip(if: true) { notification { id } } }"],
    ["subscription { tenantModuleChanged @include(if: false) { event } }"],
    ["subscription($x: Boolean!) { notificationAdded @include(if: $x) { notification { id } } }", { x: true }],
    [
      "subscription Named($x: Boolean!) { ...Root } " +
        "fragment Root on Subscription { notificationAdded @skip(if: $x) { notification { id } } }",
      { x: false },
    ],
    ["subscription { ... @include(if: true) { notificationAdded { notification { id } } } }"],
    // Two root fields: graphql-js's own rule, which this one wraps, still refuses them.
    ["subscription { a: notificationAdded { notification { id } } b: tenantModuleChanged { event } }"],
  ];
  for (const [index, [query, variables]] of cases.entries()) {
    const id = `op${index}`;
    socket.ws.send(JSON.stringify({ id, type: "subscribe", payload: { query, variables } }));
    expect([query, await answerTo(socket, id)]).toEqual([
      query,
      {
        id,
        type: "error",
        payload: [expect.objectContaining({ extensions: { code: "VALIDATION_FAILED" } })],
      },
    ]);
  }
  socket.ws.close(1000);
});

test("a message giving a key twice closes the socket with 4400: connection_init's authorization, a query", async () => {
  // Fails on the code before the fix: the parser kept the last key, and the valid token signed in.
  const tenant = await createTenant(app.db.ownerPool);
  const member = await createUser(app.db.ownerPool, tenant, "member");
  const raw = new WebSocket(app.wsUrl, "graphql-transport-ws");
  const closed = new Promise<number>((resolve) => raw.on("close", (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    raw.once("open", resolve);
    raw.once("error", reject);
  });
  raw.send(
    `{"type":"connection_init","payload":{"authorization":"Bearer forged","authorization":"Bearer ${member.token}"}}`,
  );
  expect(await closed).toBe(4400);

  const socket = await openSocket(app, { payload: { authorization: `Bearer ${member.token}` } });
  socket.ws.send(
    '{"id":"op","type":"subscribe","payload":{"query":"{ __typename }","query":"{ currentUser { id } }"}}',
  );
  expect((await socket.closed).code).toBe(4400);
  expect(socket.messages.filter((message) => message.id === "op")).toEqual([]);
});

test("text that is no JSON, with a key where no object is open, closes that socket with 4400 only", async () => {
  // Fails on the code before the fix: the duplicate-key check threw, and the process ended.
  for (const text of ['{]"a":1}', '{}"a"', '{"a":1,}"b"', '[]"a":']) {
    const raw = new WebSocket(app.wsUrl, "graphql-transport-ws");
    const closed = new Promise<number>((resolve) => raw.on("close", (code) => resolve(code)));
    await new Promise((resolve, reject) => {
      raw.once("open", resolve);
      raw.once("error", reject);
    });
    raw.send(text);
    expect([text, await closed]).toEqual([text, 4400]);
  }
  const socket = await openSocket(app, {});
  socket.ws.send(JSON.stringify({ id: "op", type: "subscribe", payload: { query: "{ __typename }" } }));
  expect(await answerTo(socket, "op")).toEqual({ id: "op", type: "next", payload: { data: { __typename: "Query" } } });
  socket.ws.close(1000);
});
