/** `npm run init` (idempotent, secret printed once) and `npm run db:truncate` (refused in prod). */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { join } from "node:path";
import request from "supertest";
import { projectRoot } from "../../src/platform/paths.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser } from "../helpers/fixtures.ts";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

const run = (script: string, args: string[] = [], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [join(projectRoot, "src", "cli", script), ...args], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: app.db.urls.ownerUrl,
      DATABASE_AUTHENTICATOR_URL: app.db.urls.authenticatorUrl,
      LOG_LEVEL: "silent",
      ...env,
    },
    encoding: "utf8",
    timeout: 30_000,
  });

/** Secrets a production configuration accepts (fresh each run: never a value the repository publishes). */
const PRODUCTION_SECRETS = {
  JWT_SECRET: randomBytes(24).toString("base64url"),
  TOTP_ENCODE_SECRET: randomBytes(24).toString("base64url"),
};

const snapshot = async () =>
  (
    await app.db.ownerPool.query(
      `select (select count(*) from app_public.tenants)::int as tenants,
              (select count(*) from app_public.users)::int as users,
              (select count(*) from app_public.roles)::int as roles,
              (select count(*) from app_public.roles r, app_private.role_grants(r.id))::int as grants`,
    )
  ).rows[0];

test("init twice gives the same state; the second run creates nothing; the admin can sign in and operate", async () => {
  const first = run("init.ts", ["--tenant", "acme", "--email", "root@acme.test"]);
  expect(first.status).toBe(0);
  const password = /created with password (\S+)/.exec(first.stdout)?.[1];
  expect(password).toBeDefined();
  const afterFirst = await snapshot();

  const second = run("init.ts", ["--tenant", "acme", "--email", "root@acme.test"]);
  expect(second.status).toBe(0);
  expect(second.stdout).toMatch(/tenant acme: exists/);
  expect(second.stdout).toMatch(/admin root@acme.test: exists/);
  expect(second.stdout).not.toContain(password);
  expect(await snapshot()).toEqual(afterFirst);

  const login = await request(app.url)
    .post("/api/auth/login")
    .send({ tenant: "acme", login: "root@acme.test", password });
  expect(login.status).toBe(200);
  const jobs = await app.graphql("{ failedJobs { totalCount } }", undefined, login.body.accessToken);
  expect(jobs.body).toEqual({ data: { failedJobs: { totalCount: 0 } } });

  // Another owner for the same tenant, whose e-mail's local part is taken as a username already.
  const another = run("init.ts", ["--tenant", "acme", "--email", "root@elsewhere.test"]);
  expect(another.stderr).toBe("");
  expect(another.stdout).toMatch(/admin root@elsewhere.test: created with password/);
  const { rows } = await app.db.ownerPool.query<{ username: string }>(
    "select username from app_public.users where email in ('root@acme.test', 'root@elsewhere.test') " +
      "order by created_at",
  );
  expect(rows.map((row) => row.username)).toEqual(["root", "root-2"]);
});

test("init --email of a user who is no owner refuses (CONFLICT) and changes nothing", async () => {
  // It had printed "admin …: exists (password unchanged)" and left the user a member.
  expect(run("init.ts", ["--tenant", "staff", "--email", "boss@staff.test"]).status).toBe(0);
  await app.db.ownerPool.query(
    `select app_private.ensure_account(t.id, 'clerk@staff.test', 'clerk', null, 'x', 'member')
     from app_public.tenants t where t.slug = 'staff'`,
  );
  const before = await snapshot();
  const again = run("init.ts", ["--tenant", "staff", "--email", "clerk@staff.test"]);
  expect([again.status, again.stdout]).toEqual([1, ""]);
  expect(again.stderr).toMatch(/^CONFLICT: clerk@staff\.test exists in staff as member, not as an owner/);
  expect(await snapshot()).toEqual(before);
});

test(
  "init --tenant gives the tenant's owner its own jobs only; " + "--operator, from the command line, the platform's",
  async () => {
    // Another tenant's failing job, enqueued by its owner's request.
    const other = await createUser(app.db.ownerPool, await createTenant(app.db.ownerPool), "owner");
    const victim = await createUser(app.db.ownerPool, { id: other.tenantId, slug: "other" }, "member");
    await app.graphql(
      `mutation ($id: UUID!) { deleteUser(input: { userId: $id }) { deleted } }`,
      { id: victim.id },
      other.token,
    );
    await app.db.ownerPool.query(
      "update graphile_worker._private_jobs set attempts = 1, last_error = 'other tenant' where key = $1",
      [`scrub_user:${victim.id}`],
    );

    const created = run("init.ts", ["--tenant", "shop", "--email", "boss@shop.test"]);
    expect(created.status).toBe(0);
    const password = /created with password (\S+)/.exec(created.stdout)![1];
    const signIn = async () =>
      (await request(app.url).post("/api/auth/login").send({ tenant: "shop", login: "boss@shop.test", password })).body
        .accessToken as string;
    const listed = async () =>
      (await app.graphql("{ failedJobs { nodes { lastError } } }", undefined, await signIn())).body;
    expect(await listed()).toEqual({ data: { failedJobs: { nodes: [] } } });

    const granted = run("init.ts", ["--tenant", "shop", "--operator", "boss@shop.test"]);
    expect([granted.status, granted.stderr]).toEqual([0, ""]);
    expect(granted.stdout).toMatch(/operator boss@shop.test: granted/);
    expect(granted.stdout).not.toMatch(/created with password/);
    expect(await listed()).toEqual({
      data: { failedJobs: { nodes: expect.arrayContaining([{ lastError: "other tenant" }]) } },
    });
    expect(run("init.ts", ["--tenant", "shop", "--operator", "boss@shop.test"]).stdout).toMatch(
      /operator boss@shop.test: exists/,
    );

    const revoked = run("init.ts", ["--tenant", "shop", "--revoke-operator", "boss@shop.test"]);
    expect(revoked.stdout).toMatch(/operator boss@shop.test: revoked/);
    expect(await listed()).toEqual({ data: { failedJobs: { nodes: [] } } });

    const unknown = run("init.ts", ["--tenant", "shop", "--operator", "nobody@shop.test"]);
    expect([unknown.status, unknown.stderr.trim()]).toEqual([1, "NOT_FOUND: No user nobody@shop.test in tenant shop."]);
  },
);

test("init refuses bad arguments with a usage message", () => {
  const result = run("init.ts", ["--tenant", "Not A Slug"]);
  expect([result.status, result.stderr.trim()]).toEqual([
    1,
    "VALIDATION_FAILED: --tenant must be a slug (2–63 of a-z, 0-9, -).",
  ]);
  // Each bad option is named, and only the bad ones.
  const email = run("init.ts", ["--tenant", "fine", "--email", "not-an-email", "--operator", "ok@fine.test"]);
  expect([email.status, email.stderr.trim()]).toEqual([
    1,
    "VALIDATION_FAILED: --email must be an e-mail address (name@domain, at most 254 characters).",
  ]);
  const both = run("init.ts", ["--operator", "boss@shop.test", "--revoke-operator", "Boss@Shop.test"]);
  expect([both.status, both.stderr.trim()]).toEqual([
    1,
    "VALIDATION_FAILED: --operator and --revoke-operator name the same address.",
  ]);
});

test("init refuses a tenant name of more than one line and creates nothing", async () => {
  const result = run("init.ts", ["--tenant", "two-lines", "--name", "Acme\nCorp", "--email", "a@two-lines.test"]);
  expect([result.status, result.stderr.trim()]).toEqual([
    1,
    "VALIDATION_FAILED: name must be one line of text, without control characters. (tenants_name_one_line)",
  ]);
  const { rows } = await app.db.ownerPool.query("select count(*)::int as n from app_public.tenants where slug = $1", [
    "two-lines",
  ]);
  expect(rows[0].n).toBe(0);
});

test("db:truncate is refused in production and empties our tables in development", async () => {
  // Rows of its own to empty (not the init test's: each test passes alone).
  await createUser(app.db.ownerPool, await createTenant(app.db.ownerPool), "owner");
  const refused = run("truncate.ts", [], {
    APP_ENV: "prod",
    ...PRODUCTION_SECRETS,
  });
  expect(refused.status).toBe(1);
  expect(refused.stderr).toMatch(/^FORBIDDEN/);
  expect((await snapshot()).tenants).toBeGreaterThan(0);

  const catalogue = await app.db.ownerPool.query("select count(*)::int as n from app_public.modules");
  // The ledger is append-only: truncating it is the development reset's one exception.
  await app.db.ownerPool.query(
    `with c as (insert into app_public.customers (tenant_id, telegram_id)
                select id, 1 from app_public.tenants limit 1 returning id, tenant_id)
     insert into app_public.transactions (tenant_id, customer_id, type, amount, currency)
     select tenant_id, id, 'adjustment', 1, 'USD' from c`,
  );
  const done = run("truncate.ts");
  expect(done.status).toBe(0);
  expect(await snapshot()).toEqual({ tenants: 0, users: 0, roles: 0, grants: 0 });
  const { rows } = await app.db.ownerPool.query("select count(*)::int as n from app_public.modules");
  // The catalogue stays (every module's row), and the ledger is guarded again.
  expect(rows[0].n).toBe(catalogue.rows[0].n);
  expect((await app.db.ownerPool.query("select count(*)::int as n from app_public.transactions")).rows[0].n).toBe(0);
  await expect(app.db.ownerPool.query("truncate app_public.transactions")).rejects.toMatchObject({ code: "TFORB" });
});

test("two seeds at once: both succeed, one demo tenant; seeding is FORBIDDEN in production", async () => {
  expect(run("truncate.ts").status).toBe(0);
  const seed = () =>
    new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [join(projectRoot, "src", "cli", "seed.ts")], {
        env: {
          PATH: process.env.PATH,
          DATABASE_URL: app.db.urls.ownerUrl,
          DATABASE_AUTHENTICATOR_URL: app.db.urls.authenticatorUrl,
          LOG_LEVEL: "silent",
        },
      });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString()));
      child.on("close", (status) => resolve({ status, stderr }));
    });
  expect(await Promise.all([seed(), seed()])).toEqual([
    { status: 0, stderr: "" },
    { status: 0, stderr: "" },
  ]);
  const { rows } = await app.db.ownerPool.query(
    "select count(*)::int as n from app_public.tenants where slug = 'demo'",
  );
  expect(rows).toEqual([{ n: 1 }]);

  const refused = run("seed.ts", [], {
    APP_ENV: "prod",
    ...PRODUCTION_SECRETS,
  });
  expect([refused.status, refused.stderr]).toEqual([1, "FORBIDDEN: seeding demo data is refused when APP_ENV=prod.\n"]);
}, 120_000);

test("npm run db refuses its development commands when APP_ENV=prod (reset would drop the database)", async () => {
  const before = await snapshot();
  for (const command of [["reset", "--erase"], ["watch", "--once"], ["commit"], ["uncommit"], ["init"]]) {
    const refused = run("db.ts", command, { APP_ENV: "prod", ...PRODUCTION_SECRETS });
    expect([command[0], refused.status, refused.stderr]).toEqual([
      command[0],
      1,
      `FORBIDDEN: \`npm run db -- ${command[0]}\` is refused when APP_ENV=prod: ` +
        "it is for development (`npm run migrate` migrates a production database).\n",
    ]);
  }
  expect(await snapshot()).toEqual(before);
}, 60_000);

test("task retry and unlock-workers act on the queue", async () => {
  const { rows } = await app.db.ownerPool.query<{ id: string }>(
    "select id::text from graphile_worker.add_job('send_email', '{}', max_attempts => 1::smallint)",
  );
  const id = rows[0]!.id;
  await app.db.ownerPool.query(
    "update graphile_worker._private_jobs set attempts = 1, last_error = 'x' where id = $1",
    [id],
  );
  const retried = run("task.ts", ["retry", id]);
  expect([retried.status, retried.stdout.trim()]).toEqual([0, `job ${id} will run again now`]);
  expect((await app.db.ownerPool.query("select attempts from graphile_worker.jobs where id = $1", [id])).rows).toEqual([
    { attempts: 0 },
  ]);

  await app.db.ownerPool.query(
    "update graphile_worker._private_jobs set locked_at = now() - interval '1 hour', locked_by = 'gone' where id = $1",
    [id],
  );
  const unlocked = run("task.ts", ["unlock-workers", "30"]);
  expect([unlocked.status, unlocked.stdout.trim()]).toEqual([0, "unlocked 1 job(s) of 1 worker(s)"]);
  expect((await app.db.ownerPool.query("select locked_at from graphile_worker.jobs where id = $1", [id])).rows).toEqual(
    [{ locked_at: null }],
  );

  const bad = run("task.ts", ["retry", "abc"]);
  expect([bad.status, bad.stderr.trim()]).toEqual([
    1,
    'VALIDATION_FAILED: An id is a whole number from 1 to 9223372036854775807 (digits only), not "abc". ' +
      "Usage: retry <job-id>",
  ]);
  // Every id a bigint holds is one (19 digits too); one past it is refused with the bound.
  const largest = run("task.ts", ["retry", "9223372036854775807"]);
  expect([largest.status, largest.stderr.trim()]).toEqual([1, expect.stringMatching(/^NOT_FOUND: /)]);
  const past = run("task.ts", ["retry", "9223372036854775808"]);
  expect([past.status, past.stderr.trim()]).toEqual([1, expect.stringMatching(/^VALIDATION_FAILED: An id is .* to 9/)]);
  const none = run("task.ts", ["retry"]);
  expect([none.status, none.stderr.trim()]).toEqual([1, "VALIDATION_FAILED: Usage: retry <job-id>"]);
});

test("a job enqueued by hand gets its task's crontab attempts; a task not in the crontab 25", async () => {
  const attempts = async (args: string[]) => {
    const enqueued = run("task.ts", ["enqueue", ...args]);
    expect(enqueued.stderr).toBe("");
    const id = /enqueued job (\d+)/.exec(enqueued.stdout)?.[1];
    const { rows } = await app.db.ownerPool.query(
      "select max_attempts from graphile_worker._private_jobs where id = $1",
      [id],
    );
    await app.db.ownerPool.query("delete from graphile_worker._private_jobs where id = $1", [id]);
    return rows[0]?.max_attempts;
  };
  // Fails on the code before the fix: 25, where the crontab's runs had 3 and the docs said 3.
  expect(await attempts(["sync_subscription_plans"])).toBe(3);
  expect(await attempts(["poll_payments"])).toBe(1);
  expect(await attempts(["scrub_user", `{"userId":"${randomUUID()}"}`])).toBe(25);
  // A bot event's id up to the largest bigint, as a number or as digits.
  expect(await attempts(["push_bot_event", '{"id":"9223372036854775807"}'])).toBe(25);
  expect(await attempts(["push_bot_event", '{"id":42}'])).toBe(25);
});

test("commands refuse what they would misread: 0 minutes, extra words, repeated options, deep payloads", async () => {
  // A job locked a moment ago by a live worker: `unlock-workers 0` would release it.
  const { rows } = await app.db.ownerPool.query<{ id: string }>(
    "select id::text from graphile_worker.add_job('send_email', '{}')",
  );
  const id = rows[0]!.id;
  await app.db.ownerPool.query(
    "update graphile_worker._private_jobs set locked_at = now(), locked_by = 'alive' where id = $1",
    [id],
  );
  const jobsBefore = (await app.db.ownerPool.query("select count(*)::int as n from graphile_worker.jobs")).rows[0].n;
  const deep = `{"a":${"[".repeat(5000)}${"]".repeat(5000)}}`;
  const refusals = [
    {
      script: "task.ts",
      args: ["unlock-workers", "0"],
      says: /^VALIDATION_FAILED: minutes must be a whole number from 1/,
    },
    { script: "task.ts", args: ["unlock-workers", "3000000000"], says: /^VALIDATION_FAILED: minutes must be/ },
    { script: "task.ts", args: ["unlock-workers", "15", "extra"], says: /^VALIDATION_FAILED: Too many arguments\./ },
    {
      script: "task.ts",
      args: ["enqueue", "worker_heartbeat", deep],
      says: /^VALIDATION_FAILED: The payload nests deeper/,
    },
    { script: "task.ts", args: ["backup", ""], says: /^VALIDATION_FAILED: Usage: backup \[file\]\n$/ },
    {
      script: "task.ts",
      args: ["enqueue", "run_build", "{}"],
      says: /^VALIDATION_FAILED: The payload does not fit run_build: buildId: /,
    },
    // Ids that are no UUIDs: these jobs had failed every attempt, for days of retries.
    ...(
      [
        ["scrub_user", '{"userId":"x"}', "userId"],
        ["event_reminder", '{"participantId":"x"}', "participantId"],
        ["event_cancelled", '{"eventId":"x"}', "eventId"],
        // Bot events have bigint ids: these had failed 25 times, each with PostgreSQL's own text.
        ["push_bot_event", '{"id":"x"}', "id"],
        ["push_bot_event", '{"id":""}', "id"],
        ["push_bot_event", '{"id":1.5}', "id"],
        ["push_bot_event", '{"id":-1}', "id"],
        ["push_bot_event", '{"id":"99999999999999999999"}', "id"],
        ["push_bot_event", '{"id":"9223372036854775808"}', "id"],
        ["push_bot_event", `{"id":"${crypto.randomUUID()}"}`, "id"],
      ] as const
    ).map(([task, payload, field]) => ({
      script: "task.ts",
      args: ["enqueue", task, payload],
      says: new RegExp(`^VALIDATION_FAILED: The payload does not fit ${task}: ${field}: `),
    })),
    // The platform's own tasks: send_email had dropped such a job, domain_event failed every attempt.
    {
      script: "task.ts",
      args: ["enqueue", "send_email", "{}"],
      says: /^VALIDATION_FAILED: The payload does not fit send_email: template: .*; to: /,
    },
    {
      script: "task.ts",
      args: ["enqueue", "send_email", '{"template":"no_such_template","to":[]}'],
      says: /^VALIDATION_FAILED: The payload does not fit send_email: template: must be one of .*; to: must name/,
    },
    // A line break in an address had mailed someone else; an address that is none, or a template's
    // data left out, had been sent or retried 25 times.
    {
      script: "task.ts",
      args: [
        "enqueue",
        "send_email",
        '{"template":"password_changed","to":["a@b.test","a@b.test\\r\\nBcc: c@d.test"]}',
      ],
      says: /^VALIDATION_FAILED: The payload does not fit send_email: to\.1: must be an e-mail address\.\n$/,
    },
    {
      script: "task.ts",
      args: ["enqueue", "send_email", '{"template":"password_changed","to":"not an email"}'],
      says: /^VALIDATION_FAILED: The payload does not fit send_email: to: must be an e-mail address\.\n$/,
    },
    {
      script: "task.ts",
      args: ["enqueue", "send_email", '{"template":"event_reminder","to":["a@b.test"]}'],
      says: /^VALIDATION_FAILED: The payload does not fit send_email: data\.title: .*; data\.content: /,
    },
    {
      script: "task.ts",
      args: ["enqueue", "domain_event", '{"id":"x"}'],
      says: /^VALIDATION_FAILED: The payload does not fit domain_event: payload: must be/,
    },
    { script: "task.ts", args: [""], says: /^VALIDATION_FAILED: / },
    // Stored altered, or unreadable as jsonb by the operators' job lists (it had broken failedJobs).
    ...['{"a":"\\ud800"}', '{"a":"\\u0000"}', '{"a":1e999}', '{"a":1,"a":2}'].map((payload) => ({
      script: "task.ts",
      args: ["enqueue", "worker_heartbeat", payload],
      says: /^VALIDATION_FAILED: The payload must be JSON stored as given/,
    })),
    {
      script: "init.ts",
      args: ["--email", "a@x.test", "--email", "b@x.test"],
      says: /^VALIDATION_FAILED: Option '--email' is given more than once/,
    },
    {
      script: "init.ts",
      args: ["--email", `${"a".repeat(250)}@x.test`],
      says: /^VALIDATION_FAILED: .*at most 254 characters/,
    },
    { script: "seed.ts", args: ["--tenant", "x"], says: /^VALIDATION_FAILED: this command takes no arguments/ },
    { script: "truncate.ts", args: ["now"], says: /^VALIDATION_FAILED: this command takes no arguments/ },
  ];
  for (const { script, args, says } of refusals) {
    const result = run(script, args);
    expect({ args: args.join(" ").slice(0, 40), status: result.status, stderr: result.stderr }).toEqual({
      args: args.join(" ").slice(0, 40),
      status: 1,
      stderr: expect.stringMatching(says),
    });
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  }
  const locked = await app.db.ownerPool.query("select locked_by from graphile_worker.jobs where id = $1", [id]);
  expect(locked.rows).toEqual([{ locked_by: "alive" }]);
  const jobsAfter = (await app.db.ownerPool.query("select count(*)::int as n from graphile_worker.jobs")).rows[0].n;
  expect(jobsAfter).toBe(jobsBefore);
  // Twenty commands, each booting the modules: on two cores shared with another run, over a minute.
}, 300_000);
