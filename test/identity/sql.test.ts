/**
 * The identity module's SQL, called as each role in a rolled-back transaction: whom the claims
 * helpers trust (a live session, never the other claims), who sees which users and roles, who may
 * create and delete users, the last owner, and the signed-in user's sessions. The sign-in flows over
 * HTTP (tokens, refresh, 2FA, registration) are in the other files of this folder.
 */
import {
  a,
  asAnonymous,
  asRoot,
  asUser,
  b,
  become,
  type Claims,
  type Client,
  column,
  committedAs,
  createSqlUser,
  db,
  errorCode,
  rows,
  useSqlTenants,
  value,
} from "../helpers/sql.ts";
import type pg from "pg";
import { testPool } from "../helpers/database.ts";
import { createHash } from "node:crypto";
import { until } from "../helpers/wait.ts";

useSqlTenants();

const me = (client: Client) => value<string | null>(client, "select app_public.current_user_id()");
const users = (client: Client) => column<string>(client, "select username::text from app_public.users order by 1");
const CREATE = "select id, tenant_id from app_public.create_user($1, $2, roles => $3)";
const create = (client: Client, name: string, roles: string[] | null = ["member"]) =>
  errorCode(client, CREATE, [`${name}@example.test`, name, roles]);
const remove = (client: Client, userId: string) => errorCode(client, "select app_public.delete_user($1)", [userId]);

test("current_user and current_tenant are the caller's own, for every role", async () => {
  for (const user of [a.owner, a.admin, a.manager, a.member, b.member]) {
    await asUser(db, user, async (client) => {
      expect(await rows(client, "select id, tenant_id, username::text from app_public.current_user()")).toEqual([
        { id: user.userId, tenant_id: user.tenantId, username: user.username },
      ]);
      expect(await value(client, "select (app_public.current_tenant()).id")).toBe(user.tenantId);
      expect(await value(client, "select app_public.current_session_id()")).toBe(user.sessionId);
    });
  }
  await asAnonymous(db, async (client) => {
    expect(await me(client)).toBeNull();
    expect(await value(client, "select (app_public.current_user()).id")).toBeNull();
  });
});

test("only a live session counts: the other claims cannot name someone else", async () => {
  const forged: Claims = { ...a.member, userId: b.owner.userId, tenantId: b.id, role: "owner" };
  await asUser(db, forged, async (client) => {
    expect(await me(client)).toBe(a.member.userId);
    expect(await value(client, "select app_public.current_tenant_id()")).toBe(a.id);
    expect(await value(client, "select app_public.current_user_has_permission('users.manage')")).toBe(false);
    expect(await users(client)).not.toContain(b.owner.username);
  });
  const unknown: Claims = { ...a.owner, sessionId: "00000000-0000-4000-8000-000000000000" };
  await asUser(db, unknown, async (client) => {
    expect(await me(client)).toBeNull();
    expect(await users(client)).toEqual([]);
    expect(await create(client, "ghost")).toBe("TAUTH");
  });
  const ends = [
    "update app_private.sessions set revoked_at = now() where id = $1",
    "update app_private.sessions set expires_at = now() - interval '1 second' where id = $1",
    // A soft-deleted user's session that was somehow left unrevoked counts for nothing either.
    "update app_public.users set deleted_at = now() where id = (select user_id from app_private.sessions " +
      "where id = $1)",
  ];
  for (const end of ends) {
    await asUser(db, a.member, async (client) => {
      await asRoot(db, client, end, [a.member.sessionId]);
      expect(await me(client)).toBeNull();
      expect(await users(client)).toEqual([]);
      expect(await create(client, "late")).toBe("TAUTH");
    });
  }
});

test("people see their own tenant's live users, roles and grants; anonymous sees permission names only", async () => {
  const everyone = [a.admin, a.manager, a.member, a.owner]
    .map((user) => user.username)
    .concat("system")
    .sort();
  for (const user of [a.owner, a.member]) {
    await asUser(db, user, async (client) => {
      expect(await users(client)).toEqual(everyone);
      expect(await column(client, "select name from app_public.roles order by name")).toEqual([
        "admin",
        "manager",
        "member",
        "owner",
      ]);
      const tenants =
        "select distinct r.tenant_id from app_public.user_roles ur join app_public.roles r on r.id = ur.role_id";
      expect(await column(client, tenants)).toEqual([a.id]);
      // A custom role with a grant in each tenant: the caller sees only its own tenant's.
      const auditors = await asRoot<{ id: string; tenant_id: string }>(
        db,
        client,
        `with r as (insert into app_public.roles (tenant_id, name) values ($1, 'auditor'), ($2, 'auditor')
           returning id, tenant_id)
         insert into app_public.role_permissions (role_id, permission) select id, 'orders.read' from r
         returning role_id as id, (select tenant_id from r where r.id = role_id)`,
        [a.id, b.id],
      );
      const grants = `select r.tenant_id, r.name, rp.permission from app_public.role_permissions rp
        join app_public.roles r on r.id = rp.role_id`;
      expect(await rows(client, grants)).toEqual([{ tenant_id: a.id, name: "auditor", permission: "orders.read" }]);
      const permissions = await rows(
        client,
        "select r.name, app_public.roles_permissions(r) as permissions from app_public.roles r order by r.name",
      );
      expect(permissions).toEqual([
        { name: "admin", permissions: expect.arrayContaining(["users.manage", "events.manage"]) },
        { name: "auditor", permissions: ["orders.read"] },
        { name: "manager", permissions: expect.arrayContaining(["events.manage"]) },
        { name: "member", permissions: [] },
        { name: "owner", permissions: expect.arrayContaining(["users.manage", "events.manage"]) },
      ]);
      // Another tenant's role, even named in a row the caller builds, grants nothing it can see.
      const theirs = auditors.find((role) => role.tenant_id === b.id)!;
      const forged = `select app_public.roles_permissions(json_populate_record(null::app_public.roles,
        json_build_object('id', $1::uuid, 'tenant_id', $2::uuid, 'name', 'auditor', 'is_builtin', false)))`;
      expect(await value(client, forged, [theirs.id, a.id])).toEqual([]);
    });
  }
  await asAnonymous(db, async (client) => {
    expect(await users(client)).toEqual([]);
    for (const table of ["roles", "user_roles", "role_permissions", "tenants"]) {
      expect(await value(client, `select count(*)::int from app_public.${table}`)).toBe(0);
    }
    expect(await column(client, "select name from app_public.permissions")).toContain("users.manage");
  });
});

test("users.manage: owner and admin hold it, manager and member do not", async () => {
  const holds = async (user: Claims) =>
    asUser(db, user, (client) => value(client, "select app_public.current_user_has_permission('users.manage')"));
  expect(await Promise.all([a.owner, a.admin, a.manager, a.member].map(holds))).toEqual([true, true, false, false]);
});

test("createUser needs users.manage and never grants a role above the creator's", async () => {
  await asAnonymous(db, async (client) => expect(await create(client, "anon")).toBe("TAUTH"));
  for (const user of [a.manager, a.member]) {
    await asUser(db, user, async (client) => {
      expect(await create(client, "newbie")).toBe("TFORB");
      expect(await users(client)).not.toContain("newbie");
    });
  }
  await asUser(db, a.admin, async (client) => {
    expect(await rows(client, CREATE, ["n1@example.test", "n1", ["member"]])).toEqual([
      { id: expect.any(String), tenant_id: a.id },
    ]);
    expect(await create(client, "n2", ["manager", "admin"])).toBeUndefined();
    expect(await create(client, "n3", ["owner"])).toBe("TFORB");
    expect(await users(client)).toEqual(expect.arrayContaining(["n1", "n2"]));
    expect(await users(client)).not.toContain("n3");
  });
  await asUser(db, a.owner, async (client) => {
    expect(await create(client, "n4", ["owner"])).toBeUndefined();
  });
});

test("createUser: a role is required and must exist; e-mail and username are unique per tenant", async () => {
  await asUser(db, a.admin, async (client) => {
    expect(await create(client, "noroles", [])).toBe("TVALD");
    expect(await create(client, "nullroles", null)).toBe("TVALD");
    expect(await create(client, "unknown", ["member", "wizard"])).toBe("TVALD");
    const refused = ["noroles", "nullroles", "unknown"];
    expect((await users(client)).filter((name) => refused.includes(name))).toEqual([]);
    expect(await create(client, "twin")).toBeUndefined();
    expect(await create(client, "twin")).toBe("TCONF");
    const sameEmail = [`twin@example.test`, "other-twin", ["member"]];
    expect(await errorCode(client, CREATE, sameEmail)).toBe("TCONF");
    await become(client, b.admin);
    expect(await create(client, "twin")).toBeUndefined();
  });
});

test("deleteUser: users.manage, not yourself, not above you, only your own tenant's live people", async () => {
  await asUser(db, a.member, async (client) => expect(await remove(client, a.manager.userId)).toBe("TFORB"));
  await asUser(db, a.manager, async (client) => expect(await remove(client, a.member.userId)).toBe("TFORB"));
  await asAnonymous(db, async (client) => expect(await remove(client, a.member.userId)).toBe("TAUTH"));
  await asUser(db, a.admin, async (client) => {
    expect(await remove(client, a.admin.userId)).toBe("TFORB");
    expect(await remove(client, a.owner.userId)).toBe("TFORB");
    expect(await remove(client, b.member.userId)).toBe("TNFND");
    const system = await value<string>(client, "select id from app_public.users where is_system");
    expect(await remove(client, system)).toBe("TNFND");
    expect(await remove(client, a.member.userId)).toBeUndefined();
    expect(await remove(client, a.member.userId)).toBe("TNFND");
    expect(await users(client)).not.toContain(a.member.username);
    // The deleted member's session is dead at once.
    await become(client, a.member);
    expect(await me(client)).toBeNull();
  });
  await asUser(db, b.admin, async (client) => expect(await users(client)).toContain(b.member.username));
});

test("two admins deleting each other at once: the first deletes, the second is no caller any more", async () => {
  // Fails on the code before the fix: the second waited for the tenant's lock, then deleted the first
  // with the permission it had checked before, as a caller that no longer existed.
  const [p, q] = [await createSqlUser(db, a, "admin"), await createSqlUser(db, a, "admin")];
  // A connection of its own: the root pool's two serve the second deletion and the wait.
  const own = testPool(db.urls.rootUrl, 1);
  const first = await own.connect();
  try {
    await first.query("begin");
    await first.query(`set local role ${db.urls.visitorRole}`);
    await become(first, p);
    expect(await remove(first, q.userId)).toBeUndefined();
    const second = committedAs(
      db.rootPool,
      db.urls.visitorRole,
      (client) => become(client, q),
      (client) => remove(client, p.userId),
    );
    await until(
      async () =>
        (await value<number>(
          db.rootPool,
          "select count(*)::int from pg_stat_activity where wait_event_type = 'Lock' and query like '%delete_user%'",
        )) > 0,
      "the second deletion to wait for the tenant's lock",
    );
    await first.query("commit");
    expect(await second).toBe("TAUTH");
  } finally {
    first.release();
    await own.end();
  }
  const live = await column<string>(
    db.ownerPool,
    "select id from app_public.users where id = any ($1) and deleted_at is null",
    [[p.userId, q.userId]],
  );
  expect(live).toEqual([p.userId]);
});

test("the last owner stays: a second owner can be deleted, the last one by nobody", async () => {
  const second = await createSqlUser(db, a, "owner");
  await asUser(db, a.owner, async (client) => {
    expect(await remove(client, second.userId)).toBeUndefined();
    expect(await remove(client, a.owner.userId)).toBe("TFORB");
    await become(client, a.admin);
    expect(await remove(client, a.owner.userId)).toBe("TFORB");
    // Below the functions, the table itself refuses to lose the tenant's last owner.
    const softDelete = "update app_public.users set deleted_at = now() where id = $1";
    await expect(asRoot(db, client, softDelete, [a.owner.userId])).rejects.toMatchObject({ code: "TCONF" });
  });
});

test("my sessions: the caller lists and revokes their own only", async () => {
  await asUser(db, a.member, async (client) => {
    const addSession =
      "insert into app_private.sessions (user_id, tenant_id, expires_at) values ($1, $2, now() + '1h') returning id";
    const other = (await asRoot<{ id: string }>(db, client, addSession, [a.member.userId, a.id]))[0]!.id;
    const mine = await rows(client, "select id, is_current from app_public.my_sessions() order by is_current desc");
    expect(mine).toEqual([
      { id: a.member.sessionId, is_current: true },
      { id: other, is_current: false },
    ]);
    expect(await errorCode(client, "select app_public.revoke_session($1)", [a.owner.sessionId])).toBe("TNFND");
    expect(await errorCode(client, "select app_public.revoke_session($1)", [b.member.sessionId])).toBe("TNFND");
    expect(await errorCode(client, "select app_public.revoke_session($1)", [other])).toBeUndefined();
    expect(await errorCode(client, "select app_public.revoke_session($1)", [other])).toBe("TNFND");
    expect(await errorCode(client, "select app_public.revoke_session($1)", [a.member.sessionId])).toBeUndefined();
    expect(await me(client)).toBeNull();
    await become(client, a.owner);
    expect(await me(client)).toBe(a.owner.userId);
  });
  await asAnonymous(db, async (client) => {
    expect(await column(client, "select id from app_public.my_sessions()")).toEqual([]);
    expect(await errorCode(client, "select app_public.revoke_session($1)", [a.owner.sessionId])).toBe("TAUTH");
  });
});

test("the request role cannot write identity tables or reach secrets and internals", async () => {
  await asUser(db, a.owner, async (client) => {
    const refused: Array<[string, unknown[]]> = [
      ["update app_public.users set full_name = 'x' where id = $1", [a.member.userId]],
      ["insert into app_public.users (tenant_id, email, username) values ($1, 'x@example.test', 'x')", [a.id]],
      ["delete from app_public.user_roles where user_id = $1", [a.member.userId]],
      ["insert into app_public.roles (tenant_id, name) values ($1, 'hacker')", [a.id]],
      [
        "insert into app_public.role_permissions (role_id, permission) select id, 'users.manage' from app_public.roles",
        [],
      ],
      ["select * from app_private.sessions", []],
      ["select * from app_private.user_secrets", []],
      ["select app_hidden.session_claims(array[$1::uuid])", [a.owner.sessionId]],
      ["select app_private.revoke_sessions($1, 'x')", [b.owner.userId]],
    ];
    for (const [sql, params] of refused) expect([sql, await errorCode(client, sql, params)]).toEqual([sql, "42501"]);
  });
});

test("the users table itself refuses an e-mail with a control or invisible character, whatever the path", async () => {
  // U+E0041 is a tag character (Unicode class Cf, outside the Basic Multilingual Plane).
  const emails = [
    "ab\u202e@example.test",
    "a\u200bb@example.test",
    "a\u0007b@example.test",
    "a\u{E0041}b@example.test",
  ];
  for (const email of emails) {
    await expect(
      db.ownerPool.query("insert into app_public.users (tenant_id, email, username) values ($1, $2, 'spoof')", [
        a.id,
        email,
      ]),
    ).rejects.toMatchObject({ code: "23514", constraint: "users_email_valid" });
  }
  expect(await value(db.ownerPool, "select app_private.email_is_valid('plain.name+tag@example.test')")).toBe(true);
});

test("a rotation commits without waiting for its WAL flush; a reuse's revocation waits for it", async () => {
  const [first, second, third] = ["first", "second", "third"].map((t) => createHash("sha256").update(t).digest());
  const session = "select app_private.create_session($1, $2, make_interval(secs => 600), null, null) as id";
  const rotate = "select * from app_private.rotate_refresh_token($1, $2, interval '0')";
  const sync = (client: Client) => value<string>(client, "show synchronous_commit");
  // The test cluster commits asynchronously throughout; each transaction starts as a server's would.
  await asAnonymous(db, async (client) => {
    await client.query("set local synchronous_commit = on");
    await asRoot(db, client, session, [a.member.userId, first]);
    expect(await asRoot(db, client, rotate, [first, second])).toMatchObject([{ status: "ok" }]);
    expect(await sync(client)).toBe("off");
  });
  await asAnonymous(db, async (client) => {
    await client.query("set local synchronous_commit = on");
    await asRoot(db, client, session, [a.member.userId, first]);
    await asRoot(db, client, "update app_private.refresh_tokens set rotated_at = now() where token_hash = $1", [first]);
    expect(await asRoot(db, client, rotate, [first, third])).toMatchObject([{ status: "reused" }]);
    expect(await sync(client)).toBe("on");
  });
});

test("createUser takes an address as it will be stored; a domain with an empty label is refused", async () => {
  await asUser(db, a.owner, async (client) => {
    const email = (address: string) =>
      value<string>(client, "select email::text from app_public.create_user($1, $2)", [address, `u${address.length}`]);
    expect(await email("  Spaced@Example.TEST \t")).toBe("spaced@example.test");
    expect(await email("\u00a0nbsp@example.test\u3000")).toBe("nbsp@example.test");
    for (const address of ["dot@example.test.", "dot@.example.test", "dot@example..test"]) {
      expect(await errorCode(client, "select app_public.create_user($1, 'dot')", [address])).toBe("TVALD");
    }
  });
});

test("two registrations of one address confirmed at once: the second is told the address is taken", async () => {
  // Fails on the code before the fix: the unique index's violation came out under its own name.
  const issue = (username: string, token: string) =>
    db.ownerPool.query(
      "select app_private.issue_registration($1, 'race@example.test', $2, null, 'x', sha256($3::bytea), " +
        "sha256('123456'), '123456', interval '15 minutes')",
      [a.id, username, token],
    );
  await issue("racer1", "first-token");
  await issue("racer2", "second-token");
  const confirm = (client: Client | pg.Pool, token: string) =>
    value<string>(
      client,
      "select status from app_private.confirm_registration(sha256($1::bytea), sha256('123456'), 5)",
      [token],
    );
  const own = testPool(db.urls.ownerUrl, 2);
  const first = await own.connect();
  try {
    await first.query("begin");
    expect(await confirm(first, "first-token")).toBe("confirmed");
    const second = confirm(own, "second-token");
    await until(
      async () =>
        (await value<number>(
          db.rootPool,
          "select count(*)::int from pg_stat_activity " +
            "where wait_event_type = 'Lock' and query like '%confirm_registration%'",
        )) > 0,
      "the second confirmation to wait on the first's new user",
    );
    await first.query("commit");
    expect(await second).toBe("email_taken");
    expect(await confirm(own, "first-token")).toBe("used");
  } finally {
    first.release();
    await own.end();
  }
  expect(
    await column(db.ownerPool, "select username::text from app_public.users where email = 'race@example.test'"),
  ).toEqual(["racer1"]);
});
