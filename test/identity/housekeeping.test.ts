/** Cleanup of long-expired auth rows, by hand (`npm run task -- cleanup sessions`) and by cron. */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { projectRoot } from "../../src/platform/paths.ts";
import { MODULES } from "../../src/modules/index.ts";
import { makeCrontab } from "../../src/platform/worker/registry.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { createTenant, createUser } from "../helpers/fixtures.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

test("`npm run task -- cleanup sessions` deletes what expired over 30 days ago and keeps the rest", async () => {
  const tenant = await createTenant(db.ownerPool);
  const user = await createUser(db.ownerPool, tenant);
  const old = await db.ownerPool.query<{ id: string }>(
    `insert into app_private.sessions (user_id, tenant_id, created_at, expires_at) values ($1, $2, now() - ` +
      `interval '90 days', now() - interval '40 days') returning id`,
    [user.id, tenant.id],
  );
  await db.ownerPool.query(
    `insert into app_private.registrations
       (tenant_id, email, username, password_hash, token_hash, code_hash, expires_at)
     values ($1, 'old@example.test', 'old', 'x', '\\x01', '\\x02', now() - interval '31 days'),
            ($1, 'new@example.test', 'new', 'x', '\\x03', '\\x04', now() + interval '10 minutes')`,
    [tenant.id],
  );

  const result = spawnSync(process.execPath, [join(projectRoot, "src", "cli", "task.ts"), "cleanup", "sessions"], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: db.urls.ownerUrl,
      DATABASE_AUTHENTICATOR_URL: db.urls.authenticatorUrl,
      LOG_LEVEL: "silent",
    },
    encoding: "utf8",
    timeout: 20_000,
  });
  expect(result.status).toBe(0);
  expect(JSON.parse(result.stdout.replace(/^deleted /, ""))).toMatchObject({ sessions: 1, registrations: 1 });

  const sessions = await db.ownerPool.query("select id from app_private.sessions where user_id = $1", [user.id]);
  expect(sessions.rows.map((row) => row.id)).toEqual([user.sessionId]);
  expect(sessions.rows.map((row) => row.id)).not.toContain(old.rows[0]!.id);
  const registrations = await db.ownerPool.query("select email from app_private.registrations");
  expect(registrations.rows).toEqual([{ email: "new@example.test" }]);
});

test("an unknown cleanup target is refused with a usage line and exit code 1", () => {
  const result = spawnSync(process.execPath, [join(projectRoot, "src", "cli", "task.ts"), "cleanup", "everything"], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: db.urls.ownerUrl,
      DATABASE_AUTHENTICATOR_URL: db.urls.authenticatorUrl,
      LOG_LEVEL: "silent",
    },
    encoding: "utf8",
    timeout: 20_000,
  });
  expect(result.status).toBe(1);
  expect(result.stderr).toMatch(/^VALIDATION_FAILED: Usage: cleanup sessions/);
});

test("the crontab runs the same cleanup daily, under an explicit id", () => {
  expect(makeCrontab(MODULES).map((item) => item.identifier)).toContain("cleanup_expired");
});
