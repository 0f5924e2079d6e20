/**
 * The SQL tier of the platform's access rules, without an HTTP server: the access guard, the
 * data-driven built-in grants and module catalogue, tenant-consistent foreign keys, and the auth
 * service's state-change functions. Each test works inside a transaction that is rolled back.
 */
import { randomBytes } from "node:crypto";
import type pg from "pg";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { createTenant, createUser, type TestTenant, type TestUser } from "../helpers/fixtures.ts";
import { asVisitor } from "../helpers/roles.ts";

let db: TestDatabase;
let tenant: TestTenant;
let other: TestTenant;
let owner: TestUser;
let manager: TestUser;
let member: TestUser;
let outsider: TestUser;
beforeAll(async () => {
  db = await createTestDatabase();
  tenant = await createTenant(db.ownerPool);
  other = await createTenant(db.ownerPool);
  owner = await createUser(db.ownerPool, tenant, "owner");
  manager = await createUser(db.ownerPool, tenant, "manager");
  member = await createUser(db.ownerPool, tenant, "member");
  outsider = await createUser(db.ownerPool, other, "member");
});
afterAll(() => db.drop());

/** Runs fn as the owner in a transaction that is rolled back, signed in as `user` when given. */
async function rolledBack<T>(fn: (client: pg.PoolClient) => Promise<T>, user?: TestUser): Promise<T> {
  const client = await db.ownerPool.connect();
  try {
    await client.query("begin");
    if (user) await client.query("select set_config('jwt.claims.session_id', $1, true)", [user.sessionId]);
    return await fn(client);
  } finally {
    await client.query("rollback");
    client.release();
  }
}

/** The SQLSTATE and message a statement fails with (undefined when it succeeds). */
async function failure(client: pg.PoolClient, sql: string, params: unknown[] = []) {
  await client.query("savepoint attempt");
  try {
    await client.query(sql, params);
    return undefined;
  } catch (error) {
    const { code, message } = error as { code: string; message: string };
    return { code, message };
  } finally {
    await client.query("rollback to savepoint attempt");
  }
}

/** The first column of the first row. */
async function value(client: pg.PoolClient, sql: string, params: unknown[] = []): Promise<unknown> {
  const { rows } = await client.query({ text: sql, values: params, rowMode: "array" });
  return rows[0]?.[0];
}

const switchOff = (client: pg.PoolClient, module: string) =>
  client.query("update app_public.tenant_modules set enabled = false where tenant_id = $1 and module = $2", [
    tenant.id,
    module,
  ]);

const guard = "select app_private.assert_module_access($1, $2)";
const forbidden = (message: string) => ({ code: "TFORB", message });

test("the guard: signed in first, then the module, then the permission", async () => {
  await rolledBack(async (client) => {
    const signedOut = await failure(client, guard, ["events", "events.manage"]);
    expect(signedOut).toEqual({ code: "TAUTH", message: "Sign in first" });
  });
  await rolledBack(async (client) => {
    expect(await failure(client, guard, ["events", null])).toBeUndefined();
    const unpermitted = await failure(client, guard, ["events", "events.manage"]);
    expect(unpermitted).toEqual(forbidden("This needs the events.manage permission"));
    await switchOff(client, "events");
    const off = await failure(client, guard, ["events", null]);
    expect(off).toEqual(forbidden("The events module is switched off for this tenant"));
  }, member);
  await rolledBack(async (client) => {
    expect(await failure(client, guard, ["events", "events.manage"])).toBeUndefined();
    expect(await failure(client, guard, ["no_such_module", null])).toMatchObject({ code: "TFORB" });
  }, manager);
});

test("the guard for a given user (the upload route's form)", async () => {
  const upload = "select app_private.assert_module_access($1, $2, 'media', 'images.upload')";
  await rolledBack(async (client) => {
    expect(await failure(client, upload, [manager.id, tenant.id])).toBeUndefined();
    expect(await failure(client, upload, [member.id, tenant.id])).toMatchObject({ code: "TFORB" });
    expect(await failure(client, upload, [manager.id, other.id])).toMatchObject({ code: "TFORB" });
    expect(await failure(client, upload, [null, tenant.id])).toMatchObject({ code: "TAUTH" });
    await switchOff(client, "media");
    const off = await failure(client, upload, [manager.id, tenant.id]);
    expect(off).toEqual(forbidden("The media module is switched off for this tenant"));
  });
});

test("jobs: jobs.manage through the guard; the operations module can be switched off", async () => {
  await rolledBack(async (client) => {
    const unpermitted = await failure(client, "select * from app_public.failed_jobs()");
    expect(unpermitted).toEqual(forbidden("This needs the jobs.manage permission"));
  }, member);
  await rolledBack(async (client) => {
    expect(await failure(client, "select * from app_public.failed_jobs()")).toBeUndefined();
    await switchOff(client, "operations");
    expect(await failure(client, "select * from app_public.locked_jobs()")).toMatchObject({ code: "TFORB" });
  }, owner);
});

/** Each built-in role of the tenant with the permissions it grants. */
async function grantsOf(client: pg.PoolClient, tenantId: string): Promise<Record<string, string[]>> {
  const { rows } = await client.query<{ name: string; permissions: string[] }>(
    `select r.name, array(select p from app_private.role_grants(r.id) p order by p) as permissions
     from app_public.roles r where r.tenant_id = $1 and r.is_builtin`,
    [tenantId],
  );
  return Object.fromEntries(rows.map((row) => [row.name, row.permissions]));
}

test("built-in roles grant what the catalogue lists, and a grant added later reaches every tenant", async () => {
  await rolledBack(async (client) => {
    const manage = [
      "apikeys.manage",
      "bots.manage",
      "broadcasts.manage",
      "builds.manage",
      "catalog.manage",
      "events.manage",
      "images.upload",
      "jobs.manage",
      "ledger.manage",
      "modules.manage",
      "orders.read",
      "payments.read",
      "users.manage",
    ];
    expect(await grantsOf(client, tenant.id)).toEqual({
      owner: manage,
      admin: manage,
      manager: ["catalog.manage", "events.manage", "images.upload", "orders.read", "payments.read"],
      member: [],
    });
    await client.query("insert into app_public.permissions (name, description) values ('things.read', 'Read things.')");
    await client.query("insert into app_private.builtin_role_permissions values ('member', 'things.read')");
    for (const id of [tenant.id, other.id]) expect((await grantsOf(client, id)).member).toEqual(["things.read"]);
    await client.query("delete from app_private.builtin_role_permissions where permission = 'things.read'");
    expect((await grantsOf(client, other.id)).member).toEqual([]);
    const unknownRole = "insert into app_private.builtin_role_permissions values ('guest', 'users.manage')";
    expect(await failure(client, unknownRole)).toMatchObject({ code: "23514" });
  });
});

test("a module registered later is switched on for every tenant", async () => {
  await rolledBack(async (client) => {
    await client.query("insert into app_public.modules (name, description) values ('things', 'Things.')");
    const { rows } = await client.query("select tenant_id from app_public.tenant_modules where module = 'things'");
    expect(rows.map((row) => row.tenant_id)).toEqual(expect.arrayContaining([tenant.id, other.id]));
  });
});

const newEvent = (client: pg.Pool | pg.PoolClient, tenantId: string) =>
  client
    .query<{ id: string }>(
      `insert into app_public.events (tenant_id, name, starts_at, ends_at)
     values ($1, 'Meetup', now() + interval '1 day', now() + interval '2 days') returning id`,
      [tenantId],
    )
    .then(({ rows }) => rows[0]!.id);
const join = "insert into app_public.event_participants (tenant_id, event_id, user_id) values ($1, $2, $3)";

test("a row naming a user or event of another tenant is refused", async () => {
  await rolledBack(async (client) => {
    const eventId = await newEvent(client, tenant.id);
    const attempts: Array<[string, unknown[]]> = [
      [join, [tenant.id, eventId, outsider.id]],
      [join, [other.id, eventId, outsider.id]],
      ["update app_public.events set created_by = $2 where id = $1", [eventId, outsider.id]],
      [
        `insert into app_public.instant_notifications (tenant_id, recipient_id, kind, title, content)
        values ($1, $2, 'x', 't', 'c')`,
        [tenant.id, outsider.id],
      ],
      [
        "insert into app_public.images (tenant_id, sha256, uploaded_by) values ($1, $2, $3)",
        [tenant.id, "a".repeat(64), outsider.id],
      ],
      [
        "insert into app_private.sessions (user_id, tenant_id, expires_at) values ($1, $2, now())",
        [outsider.id, tenant.id],
      ],
      [
        `insert into app_public.user_roles (user_id, role_id)
        select $1, id from app_public.roles where tenant_id = $2 and name = 'owner'`,
        [outsider.id, tenant.id],
      ],
    ];
    for (const [sql, params] of attempts) expect(await failure(client, sql, params)).toMatchObject({ code: "23503" });
    expect(await failure(client, join, [tenant.id, eventId, member.id])).toBeUndefined();
  });
});

test("participantsCount counts within the caller's tenant only", async () => {
  const theirs = await newEvent(db.ownerPool, other.id);
  await db.ownerPool.query(join, [other.id, theirs, outsider.id]);
  // A forged events row naming the other tenant's event: the count is the caller's tenant's.
  const forged = `select app_public.events_participants_count(row($1::uuid, $2::uuid, 'n', null, null, now(), now(),
    null, null, null, null, null, now(), now(), null, null)::app_public.events)`;
  const count = (user: TestUser) =>
    asVisitor(db.rootPool, db.urls.visitorRole, async (client) => {
      await client.query("select set_config('jwt.claims.session_id', $1, true)", [user.sessionId]);
      return value(client, forged, [theirs, other.id]);
    });
  expect([await count(outsider), await count(member)]).toEqual([1, 0]);
});

test("two-factor challenges, logout and the audit log", async () => {
  await rolledBack(async (client) => {
    const hash = randomBytes(32);
    await client.query("select app_private.issue_two_factor_challenge($1, $2, interval '5 minutes')", [
      member.id,
      hash,
    ]);
    const user = () => value(client, "select app_private.two_factor_challenge_user($1)", [hash]);
    const consume = () => value(client, "select app_private.consume_two_factor_challenge($1)", [hash]);
    expect(await user()).toBe(member.id);
    expect([await consume(), await consume(), await user()]).toEqual([true, false, null]);

    const logout = () => value(client, "select app_private.logout_session($1, null)", [member.sessionId]);
    expect([await logout(), await logout()]).toEqual([1, 0]);

    await client.query("select app_private.record_auth_event('login_failed', $1, $2, '10.0.0.1', $3, 'req-1', $4)", [
      tenant.id,
      member.id,
      "x".repeat(400),
      { a: 1 },
    ]);
    const { rows } = await client.query(
      "select ip::text, length(user_agent) as ua, details from app_private.auth_events where request_id = 'req-1'",
    );
    expect(rows).toEqual([{ ip: "10.0.0.1/32", ua: 300, details: { a: 1 } }]);
  });
});

test("a pending TOTP secret, rate-limit units, image records, accounts and operators", async () => {
  await rolledBack(async (client) => {
    const start = (secret: string) => value(client, "select app_private.start_two_factor($1, $2)", [member.id, secret]);
    expect(await start("sealed")).toBe(true);
    await client.query("update app_private.user_secrets set totp_enabled_at = now() where user_id = $1", [member.id]);
    expect(await start("again")).toBe(false);

    const take = async () =>
      (await client.query("select * from app_private.take_rate_limit('k', 2, 60, '2030-01-01T00:00:10Z')")).rows[0];
    const first = await take();
    expect([first.hits, (await take()).hits, (await take()).hits, first.retry_after]).toEqual([1, 2, null, 50]);
    await client.query("select app_private.give_back_rate_limit('k', $1)", [first.window_start]);
    expect((await take()).hits).toBe(2);

    const record = async () =>
      (
        await client.query("select * from app_private.record_image($1, $2, $3, 'image/png', 10, 1024)", [
          tenant.id,
          manager.id,
          "b".repeat(64),
        ])
      ).rows[0];
    const created = await record();
    expect(created.created).toBe(true);
    expect(await record()).toEqual({ id: created.id, created: false });

    const account = (role: string) =>
      value(client, "select app_private.ensure_account($1, 'new@example.test', 'newbie', 'New', 'hash', $2)", [
        tenant.id,
        role,
      ]);
    const id = await account("member");
    expect(await account("manager")).toBe(id);
    const { rows } = await client.query(
      `select s.password_hash, array_agg(r.name order by r.name) as roles from app_private.user_secrets s
       join app_public.user_roles ur on ur.user_id = s.user_id join app_public.roles r on r.id = ur.role_id
       where s.user_id = $1 group by s.password_hash`,
      [id],
    );
    expect(rows).toEqual([{ password_hash: "hash", roles: ["manager", "member"] }]);

    const grant = () => value(client, "select app_private.grant_platform_operator($1)", [id]);
    const revoke = () => value(client, "select app_private.revoke_platform_operator($1)", [id]);
    expect([await grant(), await grant(), await revoke(), await revoke()]).toEqual([true, false, true, false]);
  });
});
