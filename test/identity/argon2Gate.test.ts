/**
 * A burst of logins does not hold up the rest of the process. Node runs argon2 on libuv's thread
 * pool, which also serves the SCRAM handshake of every new database connection; at most
 * ARGON2_CONCURRENCY computations run there at once, so a connection made while 40 logins are being
 * hashed is ready long before they are all answered. Without the limit it waited behind every
 * queued hash: it was ready only once (nearly) all of them were answered.
 */
import pg from "pg";
import * as passwords from "../../src/modules/identity/passwords.ts";
import { until } from "../helpers/wait.ts";
import { addresses, app, rest, useLimitsApp } from "./rateLimits.ts";

useLimitsApp();

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
