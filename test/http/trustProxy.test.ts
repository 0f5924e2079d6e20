/**
 * TRUST_PROXY decides who the client is, for every transport alike: with one trusted hop the
 * address a proxy appends to X-Forwarded-For keys the per-IP login limit (whatever a client writes
 * before it), and with TRUST_PROXY=false the header is ignored. The WebSocket side records the same
 * address as HTTP (auth_events.ip).
 */
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { LIMITS, setRateLimitClock } from "../../src/modules/identity/limits.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestTenant, type TestUser } from "../helpers/fixtures.ts";

/** A pinned instant: the attempts of a test fall in one rate-limit window. */
let now = new Date("2031-03-04T05:06:07Z");
const password = "the proxy knows the client";
const LOGIN = `mutation ($input: LoginInput!) { login(input: $input) { accessToken } }`;

beforeAll(() => setRateLimitClock(() => now));
afterAll(() => setRateLimitClock(undefined));

interface Setup {
  app: TestApp;
  tenant: TestTenant;
  user: TestUser;
}

async function setup(trustProxy: string): Promise<Setup> {
  const app = await startTestApp({ env: { TRUST_PROXY: trustProxy } });
  const tenant = await createTenant(app.db.ownerPool);
  const user = await createUser(app.db.ownerPool, tenant, "member", { password });
  return { app, tenant, user };
}

/** A failed REST login (an unknown account each time, so that only the per-IP bucket fills). */
async function failedLogin(
  setup: Setup,
  forwardedFor: string,
  login = `nobody-${Math.random().toString(36).slice(2)}`,
): Promise<string> {
  const response = await fetch(`${setup.app.url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": forwardedFor },
    body: JSON.stringify({ tenant: setup.tenant.slug, login, password: "not the password" }),
  });
  return ((await response.json()) as { error: { code: string } }).error.code;
}

/** Fails logins from `forwardedFor()` until RATE_LIMITED; answers how many failed first. */
async function exhaust(setup: Setup, forwardedFor: () => string): Promise<number> {
  for (let failures = 0; failures <= LIMITS.loginPerIp.max; failures++) {
    const code = await failedLogin(setup, forwardedFor());
    if (code === "RATE_LIMITED") return failures;
    expect(code).toBe("INVALID_CREDENTIALS");
  }
  throw new Error(`never RATE_LIMITED after ${LIMITS.loginPerIp.max + 1} failures`);
}

/** A failed login of `setup.user` over graphql-ws, from a socket that sent `forwardedFor`; answers the audited ip. */
async function failedLoginOverWebSocket(
  setup: Setup,
  forwardedFor: string,
  expectedCode = "INVALID_CREDENTIALS",
): Promise<string | null> {
  class ForwardedWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers: { "x-forwarded-for": forwardedFor } });
    }
  }
  const client = createClient({ url: setup.app.wsUrl, webSocketImpl: ForwardedWebSocket, retryAttempts: 0 });
  try {
    const code = await new Promise<string | undefined>((resolve, reject) => {
      client.subscribe(
        {
          query: LOGIN,
          variables: { input: { tenant: setup.tenant.slug, login: setup.user.email, password: "wrong over ws" } },
        },
        {
          next: (value) => resolve((value.errors?.[0]?.extensions as { code?: string } | undefined)?.code),
          error: reject,
          complete: () => {},
        },
      );
    });
    expect(code).toBe(expectedCode);
  } finally {
    await client.dispose();
  }
  const { rows } = await setup.app.db.ownerPool.query<{ ip: string | null }>(
    "select host(ip) as ip from app_private.auth_events where type = 'login_failed' and user_id = $1 " +
      "order by created_at desc limit 1",
    [setup.user.id],
  );
  return rows[0]?.ip ?? null;
}

describe("TRUST_PROXY=1 (one proxy in front)", () => {
  let one: Setup;
  beforeAll(async () => {
    one = await setup("1");
  });
  afterAll(() => one.app.stop());

  test(
    "two clients behind the proxy get separate per-IP login buckets; what a client writes before the proxy's " +
      "entry changes nothing",
    async () => {
      let forged = 0;
      // Client A forges a new leftmost address every time; the proxy's entry (the last) is its own.
      const failures = await exhaust(one, () => `10.0.0.${forged++ % 250}, 203.0.113.10`);
      expect(failures).toBe(LIMITS.loginPerIp.max);
      expect(await failedLogin(one, "203.0.113.10")).toBe("RATE_LIMITED");
      // Client B, another address appended by the same proxy: its own bucket.
      expect(await failedLogin(one, "203.0.113.20")).toBe("INVALID_CREDENTIALS");
    },
  );

  test("an IPv4 address and its IPv4-mapped IPv6 spellings share one per-IP bucket", async () => {
    const failures = await exhaust(one, () => "203.0.113.30");
    expect(failures).toBe(LIMITS.loginPerIp.max);
    for (const spelling of ["::ffff:203.0.113.30", "[::FFFF:203.0.113.30]:80", "0:0:0:0:0:ffff:cb00:711e"]) {
      expect([spelling, await failedLogin(one, spelling)]).toEqual([spelling, "RATE_LIMITED"]);
    }
  });

  test("a WebSocket operation records the client address by the same rule as HTTP", async () => {
    expect(await failedLoginOverWebSocket(one, "192.0.2.1, 198.51.100.7")).toBe("198.51.100.7");
  });

  test.each([
    ["198.51.100.9:8080", "198.51.100.9"],
    ["[2001:db8::9]:443", "2001:db8::9"],
    ["[2001:db8::a]", "2001:db8::a"],
    ["fe80::1%eth0", "fe80::1"],
    ["::FFFF:198.51.100.11", "198.51.100.11"],
    ["[0:0:0:0:0:ffff:c633:640c]:80", "198.51.100.12"],
    ["2001:DB8:0:0::B", "2001:db8::b"],
    // Not an address at all: the request is the proxy's own (here, a local peer).
    ["unknown", "127.0.0.1"],
  ])("a proxy that writes the client as %s: the login works and the session records %s", async (written, ip) => {
    const response = await fetch(`${one.app.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": written },
      body: JSON.stringify({ tenant: one.tenant.slug, login: one.user.email, password }),
    });
    expect(response.status).toBe(200);
    const { rows } = await one.app.db.ownerPool.query<{ ip: string }>(
      "select host(ip) as ip from app_private.sessions where user_id = $1 order by created_at desc limit 1",
      [one.user.id],
    );
    expect(rows[0]!.ip).toBe(ip);
  });
});

describe("TRUST_PROXY=false (clients connect directly)", () => {
  let direct: Setup;
  beforeAll(async () => {
    direct = await setup("false");
  });
  afterAll(() => direct.app.stop());

  test("X-Forwarded-For is ignored: every address it names shares the peer's bucket", async () => {
    let n = 0;
    const failures = await exhaust(direct, () => `203.0.113.${n++ % 250}`);
    expect(failures).toBe(LIMITS.loginPerIp.max);
    expect(await failedLogin(direct, "198.51.100.200")).toBe("RATE_LIMITED");
  });

  test("a WebSocket operation counts and records the peer's address, not the header's", async () => {
    // The peer's bucket is full (previous test): a socket naming another address is refused too.
    await failedLoginOverWebSocket(direct, "198.51.100.7", "RATE_LIMITED");
    // In the next window, the failure is recorded with the peer's address.
    now = new Date(now.getTime() + LIMITS.loginPerIp.windowSeconds * 1000);
    expect(await failedLoginOverWebSocket(direct, "198.51.100.7")).toBe("127.0.0.1");
  });
});
