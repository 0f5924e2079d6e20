/**
 * A suspended tenant stops working at once: its access tokens are UNAUTHENTICATED on the next
 * request, its refresh tokens INVALID_TOKEN, and no login or 2FA completion opens a session.
 * Reactivated before they expire, its sessions work again (suspension revokes nothing).
 */
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestTenant } from "../helpers/fixtures.ts";
import { DOCS, totpCode } from "./helpers.ts";

let app: TestApp;
const password = "suspended tenants sign nobody in";

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

interface Session {
  accessToken: string;
  refreshToken: string;
}

async function post(
  path: string,
  body: unknown,
  token?: string,
): Promise<{ status: number; body: Record<string, unknown> & { error?: { code: string } } }> {
  const response = await fetch(`${app.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as never };
}

async function login(tenant: TestTenant, email: string) {
  return post("/api/auth/login", { tenant: tenant.slug, login: email, password });
}

async function me(token: string): Promise<[number, string | undefined]> {
  const response = await fetch(`${app.url}/api/users/me`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await response.json()) as { error?: { code: string } };
  return [response.status, body.error?.code];
}

const setStatus = (tenant: TestTenant, status: string) =>
  app.db.ownerPool.query("update app_public.tenants set status = $2 where id = $1", [tenant.id, status]);

test(
  "a suspended tenant's access token is UNAUTHENTICATED, its refresh token INVALID_TOKEN, its login " +
    "INVALID_CREDENTIALS; reactivated, the session works again",
  async () => {
    const tenant = await createTenant(app.db.ownerPool);
    const user = await createUser(app.db.ownerPool, tenant, "owner", { password });
    const signedIn = await login(tenant, user.email);
    expect(signedIn.status).toBe(200);
    const session = signedIn.body as unknown as Session;
    expect(await me(session.accessToken)).toEqual([200, undefined]);

    await setStatus(tenant, "suspended");

    expect(await me(session.accessToken)).toEqual([401, "UNAUTHENTICATED"]);
    const overGraphql = await app.graphql(DOCS.currentUser, undefined, session.accessToken);
    expect([overGraphql.status, overGraphql.body.errors?.[0]?.extensions?.code]).toEqual([401, "UNAUTHENTICATED"]);

    const refreshed = await post("/api/auth/refresh", { refreshToken: session.refreshToken });
    expect([refreshed.status, refreshed.body.error?.code]).toEqual([401, "INVALID_TOKEN"]);
    const refreshedOverGraphql = await app.graphql(DOCS.refreshSession, {
      input: { refreshToken: session.refreshToken },
    });
    expect(refreshedOverGraphql.body.errors?.[0]?.extensions?.code).toBe("INVALID_TOKEN");

    const again = await login(tenant, user.email);
    expect([again.status, again.body.error?.code]).toEqual([401, "INVALID_CREDENTIALS"]);

    // Suspension revoked nothing: reactivated, the same session refreshes and its token works.
    await setStatus(tenant, "active");
    expect(await me(session.accessToken)).toEqual([200, undefined]);
    const back = await post("/api/auth/refresh", { refreshToken: session.refreshToken });
    expect(back.status).toBe(200);
  },
);

test("a 2FA login started before the suspension cannot be completed after it", async () => {
  const tenant = await createTenant(app.db.ownerPool);
  const user = await createUser(app.db.ownerPool, tenant, "member", { password });
  const signedIn = (await login(tenant, user.email)).body as unknown as Session;
  const enrol = await post("/api/auth/2fa/enable", {}, signedIn.accessToken);
  expect(enrol.status).toBe(200);
  const confirmed = await post(
    "/api/auth/2fa/confirm",
    { code: await totpCode(enrol.body.secret as string) },
    signedIn.accessToken,
  );
  expect(confirmed.status).toBe(200);
  const [recoveryCode] = confirmed.body.recoveryCodes as string[];

  const challenge = await login(tenant, user.email);
  expect(challenge.body).toMatchObject({ twoFactorRequired: true });
  await setStatus(tenant, "suspended");

  const verified = await post("/api/auth/2fa/verify", {
    twoFactorToken: challenge.body.twoFactorToken,
    code: recoveryCode,
  });
  expect([verified.status, verified.body.error?.code]).toEqual([401, "INVALID_CREDENTIALS"]);
  expect(verified.body.accessToken).toBeUndefined();
  const { rows } = await app.db.ownerPool.query(
    "select count(*)::int as live from app_private.sessions where user_id = $1 and revoked_at is null",
    [user.id],
  );
  // The fixture's session and the one that enrolled 2FA; none was opened by the challenge.
  expect(rows).toEqual([{ live: 2 }]);
});

test("a registration issued before the suspension cannot be confirmed after it: no account appears", async () => {
  const tenant = await createTenant(app.db.ownerPool);
  const email = `late-${tenant.slug}@example.test`;
  const issued = await post("/api/auth/register", {
    tenant: tenant.slug,
    email,
    username: "late",
    password: "a long and unusual passphrase 42",
  });
  expect(issued.status).toBe(202);
  // The code e-mailed to the registrant, and that it is the registration's: the refusal below is not a wrong code.
  const { rows: jobs } = await app.db.ownerPool.query<{ code: string; matches: boolean }>(
    `select j.payload->'data'->>'code' as code,
            r.code_hash = sha256(convert_to(j.payload->'data'->>'code', 'UTF8')) as matches
     from graphile_worker._private_jobs j join app_private.registrations r on r.email = j.payload->>'to'
     where j.payload->>'template' = 'registration_code' and j.payload->>'to' = $1`,
    [email],
  );
  expect(jobs).toEqual([{ code: expect.stringMatching(/^\d{6}$/), matches: true }]);
  await setStatus(tenant, "suspended");
  const confirmed = await post("/api/auth/register/confirm", {
    registrationToken: issued.body.registrationToken,
    code: jobs[0]!.code,
  });
  expect([confirmed.status, confirmed.body.error?.code]).toEqual([401, "INVALID_TOKEN"]);
  const { rows } = await app.db.ownerPool.query(
    "select count(*)::int as n from app_public.users where tenant_id = $1 and email = $2",
    [tenant.id, email],
  );
  expect(rows).toEqual([{ n: 0 }]);
});

test("a reset token issued before the suspension is not used during it, and works once reactivated", async () => {
  // Fails on the code before the fix: the reset changed the frozen account's password.
  const tenant = await createTenant(app.db.ownerPool);
  const user = await createUser(app.db.ownerPool, tenant, "member", { password });
  const forgot = await post("/api/auth/password/forgot", { tenant: tenant.slug, email: user.email });
  expect(forgot.status).toBe(202);
  const { rows: jobs } = await app.db.ownerPool.query<{ token: string }>(
    `select j.payload->'data'->>'token' as token from graphile_worker._private_jobs j
     where j.payload->>'template' = 'password_reset' and j.payload->>'to' = $1`,
    [user.email],
  );
  expect(jobs).toEqual([{ token: expect.any(String) }]);
  const newPassword = "a fresh passphrase nobody guesses 7";
  await setStatus(tenant, "suspended");
  const refused = await post("/api/auth/reset/confirm", { token: jobs[0]!.token, newPassword });
  expect([refused.status, refused.body.error?.code]).toEqual([401, "INVALID_TOKEN"]);
  await setStatus(tenant, "active");
  // Nothing changed meanwhile: the old password still signs in, and the user's session still works.
  expect((await login(tenant, user.email)).status).toBe(200);
  expect(await me(user.token)).toEqual([200, undefined]);
  const reset = await post("/api/auth/reset/confirm", { token: jobs[0]!.token, newPassword });
  expect(reset.status).toBe(200);
  expect((await login(tenant, user.email)).status).toBe(401);
});
