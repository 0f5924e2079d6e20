import jwt from "jsonwebtoken";
import { firstOutcome, startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, mintToken, type TestUser } from "../helpers/fixtures.ts";
import { until } from "../helpers/wait.ts";

let app: TestApp;
let user: TestUser;
beforeAll(async () => {
  app = await startTestApp();
  const tenant = await createTenant(app.db.ownerPool, "acme");
  user = await createUser(app.db.ownerPool, tenant, "member");
});
afterAll(() => app.stop());

const CURRENT_TENANT = "{ currentTenant { slug } }";

describe("GraphQL over HTTP", () => {
  test("without a token the request is anonymous and sees no tenant", async () => {
    const { status, body } = await app.graphql(CURRENT_TENANT);
    expect(status).toBe(200);
    expect(body).toEqual({ data: { currentTenant: null } });
  });

  test("a valid token scopes the request to its tenant", async () => {
    const { body } = await app.graphql(CURRENT_TENANT, undefined, user.token);
    expect(body).toEqual({ data: { currentTenant: { slug: "acme" } } });
  });

  const badTokens: Array<[string, () => string]> = [
    ["malformed", () => "not-a-jwt"],
    [
      "signed with another secret",
      () =>
        mintToken(
          { sub: user.id, tid: user.tenantId, role: "member" },
          { secret: "another-secret-of-enough-length-0000" },
        ),
    ],
    ["expired", () => mintToken({ sub: user.id, tid: user.tenantId, role: "member" }, { ttlSeconds: -10 })],
    [
      "unsigned (alg none)",
      () => jwt.sign({ sub: user.id, tid: user.tenantId, sid: user.id, role: "owner" }, "", { algorithm: "none" }),
    ],
  ];

  test.each(badTokens)("a %s token is UNAUTHENTICATED with 401, never anonymous", async (_name, token) => {
    const { status, body } = await app.graphql(CURRENT_TENANT, undefined, token());
    expect(status).toBe(401);
    expect(body.data).toBeUndefined();
    expect(body.errors).toEqual([{ message: expect.any(String), extensions: { code: "UNAUTHENTICATED" } }]);
  });

  test("a token that worked is refused once it expires (its earlier verification is not reused past exp)", async () => {
    const token = mintToken(
      { sub: user.id, tid: user.tenantId, role: "member", sid: user.sessionId },
      { ttlSeconds: 1 },
    );
    const { exp } = jwt.decode(token) as { exp: number };
    const before = await app.graphql(CURRENT_TENANT, undefined, token);
    // exp is whole seconds: two seconds of life leave at least one for this first request.
    expect(before.body).toEqual({ data: { currentTenant: { slug: "acme" } } });
    await until(() => Date.now() >= exp * 1000, "the token's expiry");
    const after = await app.graphql(CURRENT_TENANT, undefined, token);
    expect([after.status, after.body.errors?.[0]?.extensions?.code]).toEqual([401, "UNAUTHENTICATED"]);
    expect(after.body.errors?.[0]?.message).toBe("The access token has expired.");
  });

  test("an Authorization header that is not a bearer token is UNAUTHENTICATED", async () => {
    const response = await fetch(`${app.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Basic dXNlcjpwYXNz" },
      body: JSON.stringify({ query: CURRENT_TENANT }),
    });
    expect(response.status).toBe(401);
    expect(
      ((await response.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code,
    ).toBe("UNAUTHENTICATED");
  });

  test("a GraphQL syntax error carries VALIDATION_FAILED", async () => {
    const { status, body } = await app.graphql("{ currentTenant { ");
    // GraphQL over HTTP: an `application/json` client gets 200 with errors (400 is only for
    // clients accepting application/graphql-response+json).
    expect(status).toBe(200);
    expect(body.errors?.[0]?.extensions?.code).toBe("VALIDATION_FAILED");
  });
});

describe("GraphQL over WebSocket", () => {
  test.each([
    ["malformed", () => "not-a-jwt"],
    ["expired", () => mintToken({ sub: user.id, tid: user.tenantId, role: "member" }, { ttlSeconds: -10 })],
    [
      "wrongly signed",
      () =>
        mintToken(
          { sub: user.id, tid: user.tenantId, role: "member" },
          { secret: "another-secret-of-enough-length-0000" },
        ),
    ],
  ])("a %s token fails the operation with UNAUTHENTICATED", async (_name, token) => {
    const outcome = await firstOutcome(app.wsClient(token()), "subscription { tenantModuleChanged { event } }");
    expect(outcome).toEqual({ error: [expect.objectContaining({ extensions: { code: "UNAUTHENTICATED" } })] });
  });

  test("an anonymous subscriber to tenant changes is UNAUTHENTICATED", async () => {
    // The socket itself is fine (anonymous is allowed); the subscription is refused before it is planned.
    const outcome = await firstOutcome(app.wsClient(), "subscription { tenantModuleChanged { event } }");
    expect(outcome).toEqual({
      error: [{ message: "Sign in to subscribe.", extensions: { code: "UNAUTHENTICATED" } }],
    });
  });

  test("a GraphQL syntax error over the socket carries VALIDATION_FAILED", async () => {
    const outcome = await firstOutcome(app.wsClient(user.token), "{ currentTenant { ");
    expect(outcome).toEqual({ error: [expect.objectContaining({ extensions: { code: "VALIDATION_FAILED" } })] });
  });

  test("a valid token queries over the socket like over HTTP", async () => {
    const outcome = await firstOutcome(app.wsClient(user.token), CURRENT_TENANT);
    expect(outcome).toEqual({ next: { data: { currentTenant: { slug: "acme" } } } });
  });
});
