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

test("200 concurrent joinEvent calls for 50 places: exactly 50 participants, 150 EVENT_FULL, nothing else", async () => {
  const eventId = await createEvent(app, manager.token, { name: "Popular talk", maxParticipantsCount: 50 });
  const outcomes = await Promise.all(
    members.map(async (member) => {
      const response = await fetch(`${app.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${member.token}`, connection: "close" },
        body: JSON.stringify({ query: JOIN, variables: { id: eventId } }),
      });
      const body = (await response.json()) as { data?: { joinEvent: unknown }; errors?: Array<{ extensions?: { code?: string } }> };
      return body.errors ? body.errors[0]?.extensions?.code ?? "NO_CODE" : "JOINED";
    }),
  );
  const tally = outcomes.reduce<Record<string, number>>((acc, outcome) => ({ ...acc, [outcome]: (acc[outcome] ?? 0) + 1 }), {});
  expect(tally).toEqual({ JOINED: 50, EVENT_FULL: 150 });
  const { rows } = await app.db.ownerPool.query("select count(*)::int as n from app_public.event_participants where event_id = $1 and status = 'PARTICIPATING'", [eventId]);
  expect(rows[0].n).toBe(50);
  const count = await app.graphql(`query ($id: UUID!) { event(rowId: $id) { participantsCount } }`, { id: eventId }, manager.token);
  expect(count.body.data).toEqual({ event: { participantsCount: 50 } });
});
