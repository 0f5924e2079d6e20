/**
 * Refresh-token rotation under concurrency: every simultaneous presentation of one refresh token
 * gets the same new pair (one rotation, no revoked session); a rotated token presented after the
 * grace window is reuse (TOKEN_REUSED) and revokes the session.
 */
import { createHash } from "node:crypto";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestTenant } from "../helpers/fixtures.ts";
import { DOCS } from "./helpers.ts";

let app: TestApp;
let tenant: TestTenant;
const password = "correct horse battery staple refresh";

beforeAll(async () => {
  app = await startTestApp();
  tenant = await createTenant(app.db.ownerPool);
});
afterAll(() => app.stop());

interface Pair {
  accessToken: string;
  refreshToken: string;
}
interface Outcome {
  status: number;
  pair?: Pair;
  code?: string;
}

/** A fresh user signed in over REST: a session of its own and its first refresh token. */
async function signIn(): Promise<Pair> {
  const user = await createUser(app.db.ownerPool, tenant, "member", { password });
  const response = await fetch(`${app.url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ tenant: tenant.slug, login: user.email, password }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Pair;
}

/** POST /graphql refreshSession on a connection of its own. */
async function refreshOverGraphql(refreshToken: string): Promise<Outcome> {
  const response = await fetch(`${app.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", connection: "close" },
    body: JSON.stringify({ query: DOCS.refreshSession, variables: { input: { refreshToken } } }),
  });
  const body = (await response.json()) as {
    data?: { refreshSession: Pair | null } | null;
    errors?: Array<{ extensions?: { code?: string } }>;
  };
  const pair = body.data?.refreshSession ?? undefined;
  return { status: response.status, ...(pair ? { pair } : { code: body.errors?.[0]?.extensions?.code ?? "NO_CODE" }) };
}

/** POST /api/auth/refresh on a connection of its own. */
async function refreshOverRest(refreshToken: string): Promise<Outcome> {
  const response = await fetch(`${app.url}/api/auth/refresh`, {
    method: "POST",
    headers: { "x-refresh-token": refreshToken, connection: "close" },
  });
  const body = (await response.json()) as Pair & { error?: { code: string } };
  return { status: response.status, ...(body.error ? { code: body.error.code } : { pair: body }) };
}

const sha256 = (value: string) => createHash("sha256").update(value, "utf8").digest();

async function sessionOf(refreshToken: string): Promise<{ id: string; revoked_reason: string | null; tokens: number }> {
  const { rows } = await app.db.ownerPool.query<{ id: string; revoked_reason: string | null; tokens: number }>(
    `select s.id, s.revoked_reason,
            (select count(*)::int from app_private.refresh_tokens c where c.session_id = s.id) as tokens
     from app_private.sessions s join app_private.refresh_tokens t on t.session_id = s.id where t.token_hash = $1`,
    [sha256(refreshToken)],
  );
  return rows[0]!;
}

async function currentUserStatus(accessToken: string): Promise<number> {
  return (await fetch(`${app.url}/api/users/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status;
}

describe.each([
  ["GraphQL", refreshOverGraphql],
  ["REST", refreshOverRest],
])("10 simultaneous refreshes of one token over %s", (_transport, refresh) => {
  test("all answer 200 with the same new refresh token; it works; the session stays live", async () => {
    const first = await signIn();
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => refresh(first.refreshToken)));

    expect(outcomes.map(({ status, code }) => [status, code])).toEqual(
      Array.from({ length: 10 }, () => [200, undefined]),
    );
    const refreshTokens = new Set(outcomes.map(({ pair }) => pair!.refreshToken));
    expect(refreshTokens.size).toBe(1);
    const [successor] = [...refreshTokens] as [string];
    expect(successor).not.toBe(first.refreshToken);

    // One rotation happened, not ten; the session is live and every access token answered works.
    const session = await sessionOf(first.refreshToken);
    expect(session).toEqual({ id: expect.any(String), revoked_reason: null, tokens: 2 });
    // Stored as SHA-256 only: the successor's hash is there, the token itself is nowhere in the row.
    const stored = await app.db.ownerPool.query(
      "select token_hash from app_private.refresh_tokens where session_id = $1",
      [session.id],
    );
    expect(stored.rows.map((row: { token_hash: Buffer }) => row.token_hash.toString("hex"))).toContain(
      sha256(successor).toString("hex"),
    );
    expect(JSON.stringify(stored.rows)).not.toContain(successor);
    for (const { pair } of outcomes) expect(await currentUserStatus(pair!.accessToken)).toBe(200);

    const next = await refresh(successor);
    expect(next.status).toBe(200);
    expect(await currentUserStatus(next.pair!.accessToken)).toBe(200);
    expect((await sessionOf(successor)).revoked_reason).toBeNull();
  });
});

test("the old token presented after the grace window is TOKEN_REUSED and revokes the session", async () => {
  const first = await signIn();
  const second = await refreshOverRest(first.refreshToken);
  expect(second.status).toBe(200);
  // Within the window, presenting it again is a retry: the same successor, nothing revoked.
  const retried = await refreshOverGraphql(first.refreshToken);
  expect([retried.status, retried.pair?.refreshToken]).toEqual([200, second.pair!.refreshToken]);

  // Move the rotation back past the grace window (the database's clock, not a sleep).
  const moved = await app.db.ownerPool.query(
    "update app_private.refresh_tokens set rotated_at = rotated_at - interval '1 hour' where token_hash = $1",
    [sha256(first.refreshToken)],
  );
  expect(moved.rowCount).toBe(1);

  expect(await refreshOverGraphql(first.refreshToken)).toEqual({ status: 200, code: "TOKEN_REUSED" });
  expect((await sessionOf(first.refreshToken)).revoked_reason).toBe("refresh_token_reused");
  expect(await refreshOverRest(second.pair!.refreshToken)).toEqual({ status: 401, code: "INVALID_TOKEN" });
  expect(await currentUserStatus(second.pair!.accessToken)).toBe(401);
});

test("within the window, the old token is reuse once its successor was used", async () => {
  const first = await signIn();
  const second = await refreshOverRest(first.refreshToken);
  const third = await refreshOverRest(second.pair!.refreshToken);
  expect([second.status, third.status]).toEqual([200, 200]);
  expect(await refreshOverRest(first.refreshToken)).toEqual({ status: 401, code: "TOKEN_REUSED" });
  expect((await sessionOf(first.refreshToken)).revoked_reason).toBe("refresh_token_reused");
  expect(await currentUserStatus(third.pair!.accessToken)).toBe(401);
});

test("a session's answer gives the token's own expiry; REST answers with tokens are never stored", async () => {
  const user = await createUser(app.db.ownerPool, tenant, "member", { password });
  const login = await fetch(`${app.url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ tenant: tenant.slug, login: user.email, password }),
  });
  const form = await fetch(`${app.url}/api/auth/login`, {
    method: "POST",
    body: new URLSearchParams({ username: user.email, password, client_id: tenant.slug }),
  });
  const first = (await login.json()) as Pair & { accessTokenExpiresAt: string };
  const formAnswer = (await form.json()) as { token_type: string; expires_in: number; access_token: string };
  const lifetime = (({ exp, iat }) => exp - iat)(claimsOf(formAnswer.access_token));
  expect(formAnswer.token_type).toBe("bearer");
  // Seconds left as of the answer: the token's lifetime, less the moment it took to answer.
  expect(formAnswer.expires_in).toBeLessThanOrEqual(lifetime);
  expect(formAnswer.expires_in).toBeGreaterThan(lifetime - 10);
  const refresh = await fetch(`${app.url}/api/auth/refresh`, {
    method: "POST",
    headers: { "x-refresh-token": first.refreshToken },
  });
  const second = (await refresh.json()) as Pair & { accessTokenExpiresAt: string };
  const overGraphql = await refreshOverGraphql(second.refreshToken);
  const third = overGraphql.pair as Pair & { accessTokenExpiresAt: string };
  for (const answer of [first, second, third]) {
    expect(answer.accessTokenExpiresAt).toBe(new Date(claimsOf(answer.accessToken).exp * 1000).toISOString());
  }
  expect([login, form, refresh].map((r) => [r.status, r.headers.get("cache-control")])).toEqual([
    [200, "no-store"],
    [200, "no-store"],
    [200, "no-store"],
  ]);
});

function claimsOf(token: string): { exp: number; iat: number } {
  return JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { exp: number; iat: number };
}
