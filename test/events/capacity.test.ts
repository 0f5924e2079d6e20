/** 200 concurrent joins for 50 places, over real parallel HTTP connections. */
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestUser } from "../helpers/fixtures.ts";
import { createEvent, JOIN } from "./helpers.ts";

let app: TestApp;
let manager: TestUser;
let members: TestUser[];

beforeAll(async () => {
  app = await startTestApp();
  const tenant = await createTenant(app.db.ownerPool, "crowded");
  manager = await createUser(app.db.ownerPool, tenant, "manager");
  members = [];
  for (let i = 0; i < 200; i++) members.push(await createUser(app.db.ownerPool, tenant, "member"));
});
afterAll(() => app.stop());

test(
  "200 concurrent joinEvent calls for 50 places: " + "exactly 50 participants, 150 EVENT_FULL, nothing else",
  async () => {
    const eventId = await createEvent(app, manager.token, { name: "Popular talk", maxParticipantsCount: 50 });
    const outcomes = await Promise.all(
      members.map(async (member) => {
        const response = await fetch(`${app.url}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${member.token}`, connection: "close" },
          body: JSON.stringify({ query: JOIN, variables: { id: eventId } }),
        });
        const body = (await response.json()) as {
          data?: { joinEvent: unknown };
          errors?: Array<{ extensions?: { code?: string } }>;
        };
        return body.errors ? (body.errors[0]?.extensions?.code ?? "NO_CODE") : "JOINED";
      }),
    );
    const tally: Record<string, number> = {};
    for (const outcome of outcomes) tally[outcome] = (tally[outcome] ?? 0) + 1;
    expect(tally).toEqual({ JOINED: 50, EVENT_FULL: 150 });
    const { rows } = await app.db.ownerPool.query(
      "select count(*)::int as n from app_public.event_participants where event_id = $1 and status = 'PARTICIPATING'",
      [eventId],
    );
    expect(rows[0].n).toBe(50);
    const count = await app.graphql(
      `query ($id: UUID!) { event(rowId: $id) { participantsCount } }`,
      { id: eventId },
      manager.token,
    );
    expect(count.body.data).toEqual({ event: { participantsCount: 50 } });
  },
);

const SET_CAPACITY =
  `mutation ($id: UUID!, $max: Int) { updateEvent(input: { eventId: $id, maxParticipantsCount: $max }) { ` +
  `event { maxParticipantsCount } } }`;

const participating = async (eventId: string) =>
  (
    await app.db.ownerPool.query<{ n: number }>(
      "select count(*)::int as n from app_public.event_participants where event_id = $1 and status = 'PARTICIPATING'",
      [eventId],
    )
  ).rows[0]!.n;
const capacity = async (eventId: string) =>
  (
    await app.db.ownerPool.query<{ max: number }>(
      "select max_participants_count as max from app_public.events where id = $1",
      [eventId],
    )
  ).rows[0]!.max;

test(
  "updateEvent refuses a capacity below the participants count (CONFLICT, details), " + "accepts one equal to it",
  async () => {
    const eventId = await createEvent(app, manager.token, { name: "Small room", maxParticipantsCount: 5 });
    for (const member of members.slice(0, 3))
      expect((await app.graphql(JOIN, { id: eventId }, member.token)).body.errors).toBeUndefined();

    const refused = await app.graphql(SET_CAPACITY, { id: eventId, max: 2 }, manager.token);
    expect(refused.body.errors?.[0]?.extensions).toEqual({
      code: "CONFLICT",
      details: { reason: "CAPACITY_BELOW_PARTICIPANTS", participantsCount: 3, maxParticipantsCount: 2 },
    });
    expect(await capacity(eventId)).toBe(5);

    const accepted = await app.graphql(SET_CAPACITY, { id: eventId, max: 3 }, manager.token);
    expect(accepted.body).toEqual({ data: { updateEvent: { event: { maxParticipantsCount: 3 } } } });
    const full = await app.graphql(JOIN, { id: eventId }, members[3]!.token);
    expect(full.body.errors?.[0]?.extensions?.code).toBe("EVENT_FULL");
    expect(await participating(eventId)).toBe(3);
  },
);

test("capacity changes racing joins never leave more participants than the capacity", async () => {
  const eventId = await createEvent(app, manager.token, { name: "Race", maxParticipantsCount: 100 });
  const early = members.slice(10, 25);
  await Promise.all(early.map((member) => app.graphql(JOIN, { id: eventId }, member.token)));
  // Joins and capacity cuts to 16 at once, over parallel connections: each cut either lands
  // before the count exceeds 16 (later joins are then EVENT_FULL) or is refused.
  const late = members.slice(25, 45);
  const [joins, cuts] = await Promise.all([
    Promise.all(late.map((member) => app.graphql(JOIN, { id: eventId }, member.token))),
    Promise.all(Array.from({ length: 5 }, () => app.graphql(SET_CAPACITY, { id: eventId, max: 16 }, manager.token))),
  ]);
  const joinCodes = new Set(joins.map(({ body }) => body.errors?.[0]?.extensions?.code ?? "JOINED"));
  const cutCodes = cuts.map(({ body }) => body.errors?.[0]?.extensions?.code ?? "SET");
  for (const code of joinCodes) expect(["JOINED", "EVENT_FULL"]).toContain(code);
  for (const code of cutCodes) expect(["SET", "CONFLICT"]).toContain(code);

  const [count, max] = [await participating(eventId), await capacity(eventId)];
  expect(count).toBeLessThanOrEqual(max);
  expect(max).toBe(cutCodes.includes("SET") ? 16 : 100);
  expect(count).toBe(early.length + joins.filter(({ body }) => !body.errors).length);
});

const CLEAR =
  `mutation ($id: UUID!, $clear: [EventOptionalField], $max: Int, $location: String) { updateEvent(input: ` +
  `{ eventId: $id, clear: $clear, maxParticipantsCount: $max, location: $location }) { ` +
  `event { maxParticipantsCount image location name } } }`;

test("updateEvent's clear makes the capacity unlimited and empties the image; the rest keeps its value", async () => {
  const eventId = await createEvent(app, manager.token, {
    name: "Cleared",
    maxParticipantsCount: 1,
    image: "https://example.test/poster.png",
    location: "Hall 2",
  });
  expect((await app.graphql(JOIN, { id: eventId }, members[0]!.token)).body.errors).toBeUndefined();
  expect((await app.graphql(JOIN, { id: eventId }, members[1]!.token)).body.errors?.[0]?.extensions?.code).toBe(
    "EVENT_FULL",
  );

  const cleared = await app.graphql(CLEAR, { id: eventId, clear: ["MAX_PARTICIPANTS_COUNT", "IMAGE"] }, manager.token);
  expect(cleared.body).toEqual({
    data: { updateEvent: { event: { maxParticipantsCount: null, image: null, location: "Hall 2", name: "Cleared" } } },
  });
  expect(await capacity(eventId)).toBeNull();
  expect((await app.graphql(JOIN, { id: eventId }, members[1]!.token)).body.errors).toBeUndefined();
  expect(await participating(eventId)).toBe(2);

  // A capacity can be set again after it was cleared, within the participants it has.
  const again = await app.graphql(CLEAR, { id: eventId, max: 2 }, manager.token);
  expect(again.body.data).toEqual({
    updateEvent: { event: { maxParticipantsCount: 2, image: null, location: "Hall 2", name: "Cleared" } },
  });
});

test("updateEvent refuses a field both given and cleared, and a null in clear, changing nothing", async () => {
  const eventId = await createEvent(app, manager.token, { name: "Both", maxParticipantsCount: 7, location: "Hall 3" });
  const both = await app.graphql(CLEAR, { id: eventId, clear: ["MAX_PARTICIPANTS_COUNT"], max: 9 }, manager.token);
  expect(both.body.errors?.[0]?.extensions).toEqual({
    code: "VALIDATION_FAILED",
    details: { field: "clear", reason: "GIVEN_AND_CLEARED", value: "MAX_PARTICIPANTS_COUNT" },
  });
  const withNull = await app.graphql(CLEAR, { id: eventId, clear: ["LOCATION", null] }, manager.token);
  expect(withNull.body.errors?.[0]?.extensions).toEqual({
    code: "VALIDATION_FAILED",
    details: { field: "clear", reason: "NULL_ITEM" },
  });
  const unknown = await app.graphql(CLEAR, { id: eventId, clear: ["NAME"] }, manager.token);
  expect(unknown.body.errors?.[0]?.extensions?.code).toBe("VALIDATION_FAILED");
  const { rows } = await app.db.ownerPool.query(
    "select max_participants_count, location from app_public.events where id = $1",
    [eventId],
  );
  expect(rows).toEqual([{ max_participants_count: 7, location: "Hall 3" }]);
  // A member cannot clear anything either.
  const member = await app.graphql(CLEAR, { id: eventId, clear: ["MAX_PARTICIPANTS_COUNT"] }, members[2]!.token);
  expect(member.body.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  expect(await capacity(eventId)).toBe(7);
});
