/**
 * GraphQL results over HTTP are written as JSON text by Grafast itself (outputDataAsString): text a
 * user stored comes back exactly, over POST and GET, and beside an error the data is still JSON.
 */
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestUser } from "../helpers/fixtures.ts";
import { createEvent } from "../events/helpers.ts";

let app: TestApp;
let manager: TestUser;
beforeAll(async () => {
  app = await startTestApp();
  manager = await createUser(app.db.ownerPool, await createTenant(app.db.ownerPool), "manager");
});
afterAll(() => app.stop());

// Quotes, backslashes, control characters, the two JavaScript line separators, astral-plane emoji,
// right-to-left text and a combining accent: each must survive the trip byte for byte.
const TRICKY = 'Say "hi" \\ back\\slash \n new\tline \u2028\u2029 🎉🧩 مرحبا e\u0301 </script>';
// A name is one line: the same without the line breaks and the tab.
const TRICKY_NAME = TRICKY.replace(/[\n\t\u2028\u2029]/g, "");
const QUERY = "query ($id: UUID!) { event(rowId: $id) { name description maxParticipantsCount location } }";

test("stored text comes back exactly over POST and GET, nulls and numbers as JSON", async () => {
  const id = await createEvent(app, manager.token, { name: TRICKY_NAME, description: TRICKY, maxParticipantsCount: 7 });
  const expected = { event: { name: TRICKY_NAME, description: TRICKY, maxParticipantsCount: 7, location: null } };
  const posted = await app.graphql(QUERY, { id }, manager.token);
  expect(posted.body).toEqual({ data: expected });

  const params = new URLSearchParams({ query: QUERY, variables: JSON.stringify({ id }) });
  const got = await fetch(`${app.url}/graphql?${params}`, {
    headers: { accept: "application/json", authorization: `Bearer ${manager.token}` },
  });
  expect(got.status).toBe(200);
  expect(JSON.parse(await got.text())).toEqual({ data: expected });
});

test("data beside an error is still JSON: one failing mutation, the one before it answered", async () => {
  const { status, body } = await app.graphql(
    `mutation ($input: CreateEventInput!, $missing: UUID!) {
       made: createEvent(input: $input) { event { name } }
       failed: rejectEvent(input: { eventId: $missing }) { event { rejectedAt } }
     }`,
    {
      input: { name: "Beside an error", startsAt: "2031-01-01T10:00:00Z", endsAt: "2031-01-01T12:00:00Z" },
      missing: "00000000-0000-4000-8000-000000000000",
    },
    manager.token,
  );
  expect(status).toBe(200);
  expect(body.data).toEqual({ made: { event: { name: "Beside an error" } }, failed: null });
  expect(body.errors?.map((error) => error.extensions?.code)).toEqual(["NOT_FOUND"]);
});
