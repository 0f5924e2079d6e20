/** The identity lifecycle over REST (/api/auth/*, /api/users/*), with its documented statuses. */
import request from "supertest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser } from "../helpers/fixtures.ts";
import { bodyOf, startSmtpCapture, type SmtpCapture } from "../helpers/smtp.ts";
import { totpCode } from "./helpers.ts";

let app: TestApp;
let smtp: SmtpCapture;
let tenant: Awaited<ReturnType<typeof createTenant>>;
beforeAll(async () => {
  smtp = await startSmtpCapture();
  app = await startTestApp({ worker: true, env: { SMTP_URL: smtp.url } });
  tenant = await createTenant(app.db.ownerPool, "rest-co");
});
afterAll(async () => {
  await app.stop();
  await smtp.close();
});

const email = "grace@example.test";
const password = "hopper compiles cobol daily";
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

test("the REST story with its statuses", async () => {
  const api = request(app.url);

  // Weak password → 400 WEAK_PASSWORD; bad e-mail → 400 VALIDATION_FAILED naming the field.
  const weak = await api
    .post("/api/auth/register")
    .send({ tenant: "rest-co", email, username: "grace", password: "password1" });
  expect([weak.status, weak.body.error.code]).toEqual([400, "WEAK_PASSWORD"]);
  const invalid = await api
    .post("/api/auth/register")
    .send({ tenant: "rest-co", email: "nope", username: "grace", password });
  expect([invalid.status, invalid.body.error.code, Object.keys(invalid.body.error.details.fields)]).toEqual([
    400,
    "VALIDATION_FAILED",
    ["email"],
  ]);
  // An address with a right-to-left override reads as another one: refused, naming the field.
  const spoofed = await api
    .post("/api/auth/register")
    .send({ tenant: "rest-co", email: "moc.elpmaxe\u202e@example.test", username: "grace", password });
  expect([spoofed.status, spoofed.body.error.details.fields]).toEqual([
    400,
    { email: "must not contain control or invisible characters" },
  ]);

  const registered = await api
    .post("/api/auth/register")
    .send({ tenant: "rest-co", email, username: "grace", fullName: "Grace Hopper", password });
  expect(registered.status).toBe(202);
  const code = /\b(\d{6})\b/.exec(bodyOf(await smtp.waitFor(email, /confirmation code/)))?.[1];
  const wrong = await api
    .post("/api/auth/register/confirm")
    .send({ registrationToken: registered.body.registrationToken, code: code === "000000" ? "111111" : "000000" });
  expect([wrong.status, wrong.body.error.code]).toEqual([401, "INVALID_TOKEN"]);
  const confirmed = await api
    .post("/api/auth/register/confirm")
    .send({ registrationToken: registered.body.registrationToken, code });
  expect(confirmed.status).toBe(201);
  expect(confirmed.body.user).toEqual({ id: expect.any(String), email, username: "grace", fullName: "Grace Hopper" });

  const me = await api.get("/api/users/me").set(bearer(confirmed.body.accessToken));
  expect([me.status, me.body.email]).toEqual([200, email]);
  const byId = await api.get(`/api/users/${confirmed.body.user.id}`).set(bearer(confirmed.body.accessToken));
  expect([byId.status, byId.body.username]).toEqual([200, "grace"]);
  const missing = await api
    .get("/api/users/00000000-0000-4000-8000-000000000000")
    .set(bearer(confirmed.body.accessToken));
  expect([missing.status, missing.body.error.code]).toEqual([404, "NOT_FOUND"]);

  // A token in the header and another in the body at once are refused.
  const twice = await api
    .post("/api/auth/refresh")
    .set("X-Refresh-Token", confirmed.body.refreshToken)
    .send({ refreshToken: "another-refresh-token-of-someone" });
  expect([twice.status, twice.body.error.code, twice.body.error.details]).toEqual([
    400,
    "VALIDATION_FAILED",
    { fields: { refreshToken: "given twice: in the header and in the body" } },
  ]);

  // Refresh with X-Refresh-Token; reuse → 401 TOKEN_REUSED and the session is gone.
  const refreshed = await api.post("/api/auth/refresh").set("X-Refresh-Token", confirmed.body.refreshToken);
  expect(refreshed.status).toBe(200);
  const again = await api.post("/api/auth/refresh").set("X-Refresh-Token", refreshed.body.refreshToken);
  expect(again.status).toBe(200);
  const reused = await api.post("/api/auth/refresh").set("X-Refresh-Token", confirmed.body.refreshToken);
  expect([reused.status, reused.body.error.code]).toEqual([401, "TOKEN_REUSED"]);
  expect((await api.get("/api/users/me").set(bearer(again.body.accessToken))).status).toBe(401);

  // OAuth2 password form login (tenant as client_id), then JSON login on a second device.
  const form = await api
    .post("/api/auth/login")
    .type("form")
    .send({ username: "grace", password, client_id: "rest-co" });
  expect([form.status, form.body.token_type, typeof form.body.access_token]).toEqual([200, "bearer", "string"]);
  const laptop = await api.post("/api/auth/login").send({ tenant: "rest-co", login: email, password });
  expect(laptop.status).toBe(200);

  // Changing the password keeps this session and revokes the other.
  const badChange = await api
    .post("/api/auth/password/change")
    .set(bearer(laptop.body.accessToken))
    .send({ currentPassword: "wrong password here", newPassword: "another long passphrase" });
  expect([badChange.status, badChange.body.error.code]).toEqual([401, "INVALID_CREDENTIALS"]);
  const changed = await api
    .post("/api/auth/password/change")
    .set(bearer(laptop.body.accessToken))
    .send({ currentPassword: password, newPassword: "another long passphrase" });
  expect(changed.status).toBe(200);
  expect((await api.get("/api/users/me").set(bearer(laptop.body.accessToken))).status).toBe(200);
  expect((await api.get("/api/users/me").set(bearer(form.body.access_token))).status).toBe(401);

  // 2FA over REST, then a two-step login.
  const enabled = await api.post("/api/auth/2fa/enable").set(bearer(laptop.body.accessToken));
  expect(enabled.status).toBe(200);
  const wrongCode = await api
    .post("/api/auth/2fa/confirm")
    .set(bearer(laptop.body.accessToken))
    .send({ code: "000000" });
  expect([wrongCode.status, wrongCode.body.error.code]).toEqual([401, "INVALID_TWO_FACTOR_CODE"]);
  const confirmed2fa = await api
    .post("/api/auth/2fa/confirm")
    .set(bearer(laptop.body.accessToken))
    .send({ code: await totpCode(enabled.body.secret) });
  expect([confirmed2fa.status, confirmed2fa.body.recoveryCodes.length]).toEqual([200, 10]);
  const step1 = await api
    .post("/api/auth/login")
    .send({ tenant: "rest-co", login: "grace", password: "another long passphrase" });
  expect(step1.body).toMatchObject({ twoFactorRequired: true, accessToken: null });
  const step2 = await api
    .post("/api/auth/2fa/verify")
    .send({ twoFactorToken: step1.body.twoFactorToken, code: await totpCode(enabled.body.secret, 1) });
  expect(step2.status).toBe(200);

  // Logout with both headers; then the access token is refused.
  const out = await api
    .post("/api/auth/logout")
    .set(bearer(step2.body.accessToken))
    .set("X-Refresh-Token", step2.body.refreshToken);
  expect(out.status).toBe(200);
  expect((await api.get("/api/users/me").set(bearer(step2.body.accessToken))).status).toBe(401);

  // Forgot → reset: every session ends.
  expect((await api.post("/api/auth/password/forgot").send({ tenant: "rest-co", email })).status).toBe(202);
  const token = /password: ([\w-]{20,})/.exec(bodyOf(await smtp.waitFor(email, /Reset your Tessera password/)))?.[1];
  const reset = await api.post("/api/auth/reset/confirm").send({ token, newPassword: "the third passphrase" });
  expect(reset.status).toBe(200);
  expect((await api.get("/api/users/me").set(bearer(laptop.body.accessToken))).status).toBe(401);
  const reuseReset = await api.post("/api/auth/reset/confirm").send({ token, newPassword: "the fourth passphrase" });
  expect([reuseReset.status, reuseReset.body.error.code]).toEqual([401, "INVALID_TOKEN"]);

  // Unauthenticated routes answer 401; unsupported bodies never 500.
  expect((await api.post("/api/auth/2fa/enable")).status).toBe(401);
  expect((await api.post("/api/auth/password/change").send({})).status).toBe(401);
  const garbage = await api.post("/api/auth/login").set("content-type", "application/json").send("{");
  expect([garbage.status, garbage.body.error.code]).toEqual([400, "VALIDATION_FAILED"]);
});

test("logout ends the access token's session only, and the refresh token's only without one", async () => {
  const api = request(app.url);
  const user = await createUser(app.db.ownerPool, tenant, "member", { password });
  const signIn = async () => {
    const answer = await api.post("/api/auth/login").send({ tenant: "rest-co", login: user.username, password });
    expect(answer.status).toBe(200);
    return answer.body as { accessToken: string; refreshToken: string };
  };
  const [phone, laptop, tablet] = [await signIn(), await signIn(), await signIn()];
  const live = async (session: { accessToken: string }) =>
    (await api.get("/api/users/me").set(bearer(session.accessToken))).status === 200;

  // The phone's bearer with the laptop's refresh token: the phone signs out, the laptop does not.
  const out = await api
    .post("/api/auth/logout")
    .set(bearer(phone.accessToken))
    .set("X-Refresh-Token", laptop.refreshToken);
  expect(out.status).toBe(200);
  expect([await live(phone), await live(laptop), await live(tablet)]).toEqual([false, true, true]);
  const laptopRefresh = await api.post("/api/auth/refresh").set("X-Refresh-Token", laptop.refreshToken);
  expect(laptopRefresh.status).toBe(200);

  // Without a bearer, the refresh token names the session.
  const byRefresh = await api.post("/api/auth/logout").set("X-Refresh-Token", tablet.refreshToken);
  expect(byRefresh.status).toBe(200);
  expect([await live(laptopRefresh.body), await live(tablet)]).toEqual([true, false]);
});

test("a body of a type the route does not take is 415, not fields reported missing; nothing is counted", async () => {
  const api = request(app.url);
  const user = await createUser(app.db.ownerPool, tenant, "member", { password });
  const hits = async () =>
    (await app.db.ownerPool.query("select coalesce(sum(hits), 0)::int as n from app_private.rate_limits")).rows[0].n;
  const before = await hits();
  const json = JSON.stringify({ tenant: tenant.slug, login: user.email, email: user.email, password });
  for (const path of ["/api/auth/login", "/api/auth/register", "/api/auth/password/forgot"]) {
    for (const type of ["text/plain", "multipart/form-data; boundary=x", "application/xml"]) {
      const answer = await api.post(path).set("Content-Type", type).send(json);
      expect({ path, type, status: answer.status, code: answer.body.error?.code }).toEqual({
        path,
        type,
        status: 415,
        code: "UNSUPPORTED_MEDIA_TYPE",
      });
    }
  }
  // No attempt reached a limit's counter (a login, a registration, a reset e-mail).
  expect(await hits()).toBe(before);
  // JSON (with login's fields only: a key it does not take is refused) and the OAuth2 password form sign in.
  const fields = JSON.stringify({ tenant: tenant.slug, login: user.email, password });
  const asJson = await api.post("/api/auth/login").set("Content-Type", "application/json").send(fields);
  const asForm = await api
    .post("/api/auth/login")
    .type("form")
    .send({ username: user.email, password, tenant: tenant.slug });
  expect([asJson.status, asForm.status]).toEqual([200, 200]);
});

test("a field of the wrong type is named by its type, not by rules meant for the right one", async () => {
  const api = request(app.url);
  const answers = await Promise.all([
    api.post("/api/auth/refresh").send({ refreshToken: ["a"] }),
    api.post("/api/auth/login").send({ tenant: tenant.slug, login: ["x".repeat(300)], password }),
  ]);
  expect(answers.map((answer) => [answer.status, answer.body.error?.details?.fields])).toEqual([
    [400, { refreshToken: "Invalid input: expected string, received array" }],
    [400, { login: "Invalid input: expected string, received array" }],
  ]);
});

test("login finds an address typed with capitals beyond ASCII, in either Unicode spelling", async () => {
  const user = await createUser(app.db.ownerPool, tenant, "member", { password });
  await app.db.ownerPool.query("update app_public.users set email = $1 where id = $2", [
    "j\u00fcrgen.\u00e4rger@example.test",
    user.id,
  ]);
  const spellings = [
    "J\u00dcRGEN.\u00c4RGER@EXAMPLE.TEST",
    "J\u00dcRGEN.\u00c4RGER@example.test".normalize("NFD"),
    " j\u00fcrgen.\u00e4rger@example.test ".normalize("NFD"),
  ];
  for (const login of spellings) {
    const answer = await request(app.url).post("/api/auth/login").send({ tenant: "rest-co", login, password });
    expect([login, answer.status]).toEqual([login, 200]);
  }
});
