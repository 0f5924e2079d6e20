/** Events fixtures: events written by a manager through the API, and common documents. */
import type { TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestTenant, type TestUser } from "../helpers/fixtures.ts";

export const CREATE_EVENT =
  `mutation ($input: CreateEventInput!) { createEvent(input: $input) { event { rowId name startsAt ` +
  `maxParticipantsCount } } }`;
export const JOIN = `mutation ($id: UUID!) { joinEvent(input: { eventId: $id }) { participant { rowId status } } }`;
export const LEAVE = `mutation ($id: UUID!) { leaveEvent(input: { eventId: $id }) { left } }`;
export const UPDATE =
  `mutation ($id: UUID!, $startsAt: Datetime, $endsAt: Datetime) { updateEvent(input: { eventId: $id, ` +
  `startsAt: $startsAt, endsAt: $endsAt }) { event { startsAt } } }`;
export const REJECT =
  `mutation ($id: UUID!, $reason: String) { rejectEvent(input: { eventId: $id, reason: $reason }) { event { ` +
  `rejectedAt } } }`;

export const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

export async function createEvent(app: TestApp, token: string, input: Record<string, unknown>): Promise<string> {
  const { body } = await app.graphql(
    CREATE_EVENT,
    {
      input: { name: "Meetup", startsAt: inMinutes(24 * 60 * 7), endsAt: inMinutes(24 * 60 * 7 + 120), ...input },
    },
    token,
  );
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return (body.data as { createEvent: { event: { rowId: string } } }).createEvent.event.rowId;
}

/**
 * A tenant of one's own with a manager and a member. Each test makes its own, so that any test
 * passes alone (`-t`) and in any order: nothing it counts was made by another test.
 */
export async function newTenant(
  app: TestApp,
): Promise<{ tenant: TestTenant; tenantId: string; manager: TestUser; member: TestUser }> {
  const tenant = await createTenant(app.db.ownerPool);
  return {
    tenant,
    tenantId: tenant.id,
    manager: await createUser(app.db.ownerPool, tenant, "manager"),
    member: await createUser(app.db.ownerPool, tenant, "member"),
  };
}
