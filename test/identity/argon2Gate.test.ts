/**
 * A burst of logins does not hold up the rest of the process. Node runs argon2 on libuv's thread
 * pool, which also serves the SCRAM handshake of every new database connection; at most
 * ARGON2_CONCURRENCY computations run there at once, so a connection made while 40 logins are being
 * hashed is ready long before they are all answered. Without the limit it waited behind every
 * queued hash: it was ready only once (nearly) all of them were answered.
 *
 * The line is bounded too: past ARGON2_MAX_WAITING, a request that needs a password check is
 * answered 503 at once, writes nothing, and uses none of its rate-limit budget.
 */
import pg from "pg";
import * as passwords from "../../src/modules/identity/passwords.ts";
import { createUser } from "../helpers/fixtures.ts";
import { until } from "../helpers/wait.ts";
import { DOCS } from "./helpers.ts";
import { addresses, app, graphql, password, registration, rest, tenant, useLimitsApp } from "./rateLimits.ts";

const logLines: string[] = [];
useLimitsApp(undefined, logLines);

const LOGINS = 40;

test("a database connection made during a burst of logins is ready before most of them are answered", async () => {
  const ip = addresses();
  const before = passwords.argon2Count();
  let answered = 0;
  const logins = Array.from({ length: LOGINS }, (_, i) =>
    rest(
      "/api/auth/login",
      { tenant: "limited", login: `nobody-${i}@example.test`, password: "not it" },
      ip(i + 1),
    ).then((answer) => {
      answered += 1;
      return answer.status;
    }),
  );
  // Every login has asked for its argon2 run (an unknown account costs one, as a known one does).
  await until(() => passwords.argon2Count() - before === LOGINS, "every login to ask for its hash");
  const client = new pg.Client({ connectionString: app.db.urls.ownerUrl });
  await client.connect(); // SCRAM: PBKDF2 and HMACs on the thread pool
  const answeredWhenConnected = answered;
  await client.end();
  expect(await Promise.all(logins)).toEqual(Array(LOGINS).fill(401));
  // Nearly all (38–40 when measured) before the fix; a few with it.
  expect(answeredWhenConnected).toBeLessThan(LOGINS / 2);
});

test("past the line's length a password check is 503 at once; nothing is written or counted", async () => {
  const ip = addresses();
  const user = await createUser(app.db.ownerPool, tenant, "member", { password });
  const { passwordWork } = passwords;
  // Every slot and every place in line taken by work that ends when the test says so.
  const release = Promise.withResolvers<void>();
  const held = Array.from({ length: passwordWork.concurrency + passwordWork.maxWaiting }, () =>
    passwordWork.run(() => release.promise),
  );
  const login = { tenant: "limited", login: user.email, password };
  const tag = `full${Date.now()}`;
  try {
    // Answered while the line is still full: none of these waited for a place in it.
    expect(await rest("/api/auth/login", login, ip(1))).toMatchObject({
      status: 503,
      code: "SERVICE_UNAVAILABLE",
      retryAfter: "5",
    });
    expect(await graphql(DOCS.login, login, ip(1))).toMatchObject({ status: 503, code: "SERVICE_UNAVAILABLE" });
    expect(await rest("/api/auth/register", registration("limited", tag), ip(2))).toMatchObject({
      status: 503,
      code: "SERVICE_UNAVAILABLE",
    });
  } finally {
    release.resolve();
    await Promise.all(held);
  }
  // Each refusal is logged at warn level, by its reason, without a stack: a flood of them floods nothing.
  const refusals = logLines
    .map((line) => JSON.parse(line) as { level: number; msg: string; status?: number; err?: unknown; reason?: string })
    .filter((line) => line.status === 503 || line.msg === "service unavailable");
  const byMessage = refusals.sort((a, b) => a.msg.localeCompare(b.msg));
  expect(byMessage.map(({ level, msg, err, reason }) => ({ level, msg, err, reason }))).toEqual([
    ...Array(3).fill({ level: 40, msg: "request refused", err: undefined, reason: undefined }),
    ...Array(3).fill({
      level: 40,
      msg: "service unavailable",
      err: undefined,
      reason: "Too many passwords are being checked right now; try again shortly.",
    }),
  ]);
  // The refused logins gave their units back.
  const { rows: units } = await app.db.ownerPool.query<{ hits: number }>(
    "select hits from app_private.rate_limits where key = any($1)",
    [[`login:ip:${ip(1)}`, `login:user:${user.id}`]],
  );
  expect(units.map((unit) => unit.hits)).toEqual([0, 0]);
  // So did the refused registration: per address, per tenant and per e-mail.
  const { rows: registrationUnits } = await app.db.ownerPool.query<{ hits: number }>(
    "select hits from app_private.rate_limits where key like 'register:%'",
  );
  expect(registrationUnits.map((unit) => unit.hits)).toEqual([0, 0, 0]);
  // The refused registration stored nothing.
  const { rows: stored } = await app.db.ownerPool.query("select 1 from app_private.registrations where username = $1", [
    tag,
  ]);
  expect(stored).toEqual([]);
  // With room in line again, the same requests go through.
  expect(await rest("/api/auth/login", login, ip(1))).toMatchObject({ status: 200 });
  expect(await rest("/api/auth/register", registration("limited", tag), ip(2))).toMatchObject({ status: 202 });
});
