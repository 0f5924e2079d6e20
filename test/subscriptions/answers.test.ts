/**
 * What the subscription provider answers is read by a schema before anything is stored: an answer
 * PostgreSQL could not store is refused there, as one of the wrong shape.
 */
import { IssuedSubscription } from "../../src/modules/subscriptions/contms.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

const answer = (expiresAt: string) => ({ id: "s-1", login: "l", password: "p", url: "https://x.test", expiresAt });

test("an expiry the schema takes is one PostgreSQL stores; year 0000, which it cannot, is refused", async () => {
  for (const expiresAt of ["0001-01-01T00:00:00Z", "2027-06-30T12:00:00+02:00", "9999-12-31T23:59:59Z"]) {
    expect(IssuedSubscription.safeParse(answer(expiresAt)).success).toBe(true);
    const { rows } = await db.ownerPool.query("select $1::timestamptz is not null as stored", [expiresAt]);
    expect(rows).toEqual([{ stored: true }]);
  }
  const zero = "0000-01-01T00:00:00Z";
  expect(IssuedSubscription.safeParse(answer(zero)).success).toBe(false);
  await expect(db.ownerPool.query("select $1::timestamptz", [zero])).rejects.toThrow(/out of range/);
});

test("an expiry before year 1 once its offset is applied (1 BC) is refused, as Datetime refuses it", async () => {
  // Fails on the code before the fix: it was stored, and REST and GraphQL printed two other dates.
  const bc = "0001-01-01T00:00:00+14:00";
  const { rows } = await db.ownerPool.query("select to_char($1::timestamptz at time zone 'UTC', 'YYYY BC') as y", [bc]);
  expect(rows).toEqual([{ y: "0001 BC" }]);
  expect(IssuedSubscription.safeParse(answer(bc)).success).toBe(false);
  expect(IssuedSubscription.safeParse(answer("2026-12-05T10:00:00+14:00")).success).toBe(true);
});
