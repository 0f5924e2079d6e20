/** Tenant isolation of identity data, and RBAC on createUser / deleteUser. */
import { MODULES } from "../../src/modules/index.ts";
import request from "supertest";
import { createLogger } from "../../src/platform/logger.ts";
import { makeTaskList } from "../../src/platform/worker/registry.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createSession, createTenant, createUser, mintToken, type TestUser } from "../helpers/fixtures.ts";
import { runDueJobs } from "../helpers/jobs.ts";

let app: TestApp;
let adminA: TestUser;
let memberA: TestUser;
let memberB: TestUser;

beforeAll(async () => {
  app = await startTestApp();
  const a = await createTenant(app.db.ownerPool, "tenant-a");
  const b = await createTenant(app.db.ownerPool, "tenant-b");
  adminA = await createUser(app.db.ownerPool, a, "admin");
  memberA = await createUser(app.db.ownerPool, a, "member");
  memberB = await createUser(app.db.ownerPool, b, "member");
});
afterAll(() => app.stop());

const READ_ALL = `{
  users { nodes { rowId tenantId } }
  roles { nodes { rowId tenantId name } }
  userRoles { nodes { userId } }
  tenants { nodes { slug } }
  mySessions { nodes { rowId isCurrent } }
}`;

test("a user of tenant A reads nothing of tenant B", async () => {
  const { body } = await app.graphql(READ_ALL, undefined, memberA.token);
  expect(body.errors).toBeUndefined();
  const data = body.data as {
    users: { nodes: Array<{ tenantId: string }> };
    roles: { nodes: Array<{ tenantId: string }> };
    userRoles: { nodes: Array<{ userId: string }> };
    tenants: { nodes: Array<{ slug: string }> };
    mySessions: { nodes: Array<{ rowId: string; isCurrent: boolean }> };
  };
  expect(new Set(data.users.nodes.map((u) => u.tenantId))).toEqual(new Set([memberA.tenantId]));
  expect(data.users.nodes.length).toBeGreaterThanOrEqual(2);
  expect(new Set(data.roles.nodes.map((r) => r.tenantId))).toEqual(new Set([memberA.tenantId]));
  expect(data.userRoles.nodes.map((r) => r.userId)).not.toContain(memberB.id);
  expect(data.tenants.nodes).toEqual([{ slug: "tenant-a" }]);
  expect(data.mySessions.nodes).toEqual([{ rowId: memberA.sessionId, isCurrent: true }]);

  const direct = await app.graphql(
    `query ($id: UUID!) { user(rowId: $id) { rowId } }`,
    { id: memberB.id },
    memberA.token,
  );
  expect(direct.body.data).toEqual({ user: null });
  const rest = await request(app.url).get(`/api/users/${memberB.id}`).set("Authorization", `Bearer ${memberA.token}`);
  expect(rest.status).toBe(404);
});

test("anonymous sees no users, roles or sessions", async () => {
  const { body } = await app.graphql(READ_ALL);
  expect(body.data).toEqual({
    users: { nodes: [] },
    roles: { nodes: [] },
    userRoles: { nodes: [] },
    tenants: { nodes: [] },
    mySessions: { nodes: [] },
  });
});

const CREATE_USER = `mutation ($email: String!, $username: String!, $roles: [String]) {
  createUser(input: { email: $email, username: $username, fullName: "New Person", roles: $roles }) {
    user { rowId email }
  }
}`;

test("a member without users.manage gets FORBIDDEN from createUser, and no row appears", async () => {
  const { body } = await app.graphql(
    CREATE_USER,
    { email: "x@example.test", username: "x-user", roles: ["member"] },
    memberA.token,
  );
  expect(body.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  const { rowCount } = await app.db.ownerPool.query("select 1 from app_public.users where email = 'x@example.test'");
  expect(rowCount).toBe(0);
});

test("an admin creates a user with roles in one transaction; an unknown role creates nothing", async () => {
  const created = await app.graphql(
    CREATE_USER,
    { email: "mgr@example.test", username: "mgr", roles: ["manager"] },
    adminA.token,
  );
  expect(created.body.errors).toBeUndefined();
  const roles = await app.db.ownerPool.query(
    "select r.name from app_public.user_roles ur join app_public.roles r on r.id = ur.role_id join " +
      "app_public.users u on u.id = ur.user_id where u.email = 'mgr@example.test'",
  );
  expect(roles.rows).toEqual([{ name: "manager" }]);

  const bad = await app.graphql(
    CREATE_USER,
    { email: "bad@example.test", username: "bad-role", roles: ["member", "emperor"] },
    adminA.token,
  );
  expect(bad.body.errors?.[0]?.extensions?.code).toBe("VALIDATION_FAILED");
  expect(
    (await app.db.ownerPool.query("select 1 from app_public.users where email = 'bad@example.test'")).rowCount,
  ).toBe(0);

  const taken = await app.graphql(
    CREATE_USER,
    { email: "mgr@example.test", username: "mgr2", roles: ["member"] },
    adminA.token,
  );
  expect(taken.body.errors?.[0]?.extensions).toEqual({ code: "CONFLICT", details: { reason: "EMAIL_TAKEN" } });
});

test("createUser calls racing on one e-mail or username: one user, every other CONFLICT with its reason", async () => {
  for (const [field, reason] of [
    ["email", "EMAIL_TAKEN"],
    ["username", "USERNAME_TAKEN"],
  ] as const) {
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const email = field === "email" ? "race@example.test" : `race-${i}@example.test`;
        const username = field === "username" ? "race-name" : `race-${field}-${i}`;
        return app.graphql(CREATE_USER, { email, username, roles: ["member"] }, adminA.token);
      }),
    );
    const refused = answers.map((answer) => answer.body.errors?.[0]?.extensions).filter(Boolean);
    expect(refused).toEqual(Array(19).fill({ code: "CONFLICT", details: { reason } }));
    const column = field === "email" ? "email" : "username";
    const value = field === "email" ? "race@example.test" : "race-name";
    const { rowCount } = await app.db.ownerPool.query(`select 1 from app_public.users where ${column} = $1`, [value]);
    expect(rowCount).toBe(1);
  }
});

test("deleting a user revokes their sessions at once and scrubs them later", async () => {
  const victim = await createUser(app.db.ownerPool, { id: adminA.tenantId, slug: "tenant-a" }, "member");
  const denied = await app.graphql(
    `mutation ($id: UUID!) { deleteUser(input: { userId: $id }) { deleted } }`,
    { id: victim.id },
    memberA.token,
  );
  expect(denied.body.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  const deleted = await app.graphql(
    `mutation ($id: UUID!) { deleteUser(input: { userId: $id }) { deleted } }`,
    { id: victim.id },
    adminA.token,
  );
  expect(deleted.body).toEqual({ data: { deleteUser: { deleted: true } } });
  expect((await app.graphql("{ currentUser { rowId } }", undefined, victim.token)).status).toBe(401);
  const job = await app.db.ownerPool.query("select key from graphile_worker.jobs where task_identifier = 'scrub_user'");
  expect(job.rows).toEqual([{ key: `scrub_user:${victim.id}` }]);
  await runDueJobs(
    app.db.ownerPool,
    makeTaskList({ modules: MODULES, mail: { from: "t@example.test" }, logger: createLogger("silent") }),
  );
  const scrubbed = await app.db.ownerPool.query(
    "select email, username, full_name, " +
      "(select count(*)::int from app_private.user_secrets where user_id = $1) as secrets " +
      "from app_public.users where id = $1",
    [victim.id],
  );
  expect(scrubbed.rows).toEqual([
    {
      email: `deleted-${victim.id}@deleted.invalid`,
      username: expect.stringMatching(/^deleted-/),
      full_name: null,
      secrets: 0,
    },
  ]);
});

test("mySessions lists a user's sessions, and revoking one ends it on its next request", async () => {
  const tenant = { id: memberA.tenantId, slug: "tenant-a" };
  const phone = await createUser(app.db.ownerPool, tenant, "member");
  const laptopSession = await createSession(app.db.ownerPool, phone.id);
  const laptop = mintToken({ sub: phone.id, tid: tenant.id, role: "member", sid: laptopSession });
  const listed = await app.graphql("{ mySessions { nodes { rowId isCurrent } } }", undefined, phone.token);
  expect(listed.body.data).toEqual({
    mySessions: {
      nodes: expect.arrayContaining([
        { rowId: phone.sessionId, isCurrent: true },
        { rowId: laptopSession, isCurrent: false },
      ]),
    },
  });
  const revoked = await app.graphql(
    `mutation ($id: UUID!) { revokeSession(input: { sessionId: $id }) { revoked } }`,
    { id: laptopSession },
    phone.token,
  );
  expect(revoked.body).toEqual({ data: { revokeSession: { revoked: true } } });
  expect((await app.graphql("{ currentUser { rowId } }", undefined, laptop)).status).toBe(401);
  expect((await app.graphql("{ currentUser { rowId } }", undefined, phone.token)).status).toBe(200);
  // Someone else's session cannot be revoked (and is not revealed).
  const foreign = await app.graphql(
    `mutation ($id: UUID!) { revokeSession(input: { sessionId: $id }) { revoked } }`,
    { id: memberB.sessionId },
    phone.token,
  );
  expect(foreign.body.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  const { rows } = await app.db.ownerPool.query("select revoked_at from app_private.sessions where id = $1", [
    laptopSession,
  ]);
  expect(rows[0].revoked_at).not.toBeNull();
});
