/**
 * What a second use of one secret gives — a second reset link, the old password twice, a
 * registration confirmed again — one after the other and in parallel.
 */
import request from "supertest";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { createTenant, createUser, type TestTenant } from "../helpers/fixtures.ts";
import { bodyOf, startSmtpCapture, type SmtpCapture } from "../helpers/smtp.ts";
import { totpCode } from "./helpers.ts";
import { until } from "../helpers/wait.ts";

let app: TestApp;
let smtp: SmtpCapture;
let tenant: TestTenant;
const password = "a perfectly fine passphrase";
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

beforeAll(async () => {
  smtp = await startSmtpCapture();
  app = await startTestApp({ worker: true, env: { SMTP_URL: smtp.url } });
  tenant = await createTenant(app.db.ownerPool, "once");
});
afterAll(async () => {
  await app.stop();
  await smtp.close();
});

/** Asks for `count` reset e-mails and answers their tokens, in the order they were asked for. */
async function resetTokens(email: string, count: number): Promise<string[]> {
  for (let i = 0; i < count; i++) {
    const asked = await request(app.url).post("/api/auth/password/forgot").send({ tenant: tenant.slug, email });
    expect(asked.status).toBe(202);
  }
  const mails = () => smtp.messages.filter((m) => m.to.includes(email) && /Reset your/.test(m.subject));
  await until(() => mails().length === count, `${count} reset e-mails to ${email}`);
  return mails().map((mail) => /password: ([\w-]{20,})/.exec(bodyOf(mail))![1]!);
}

/** Deletes a user as `admin` through GraphQL's deleteUser. */
async function deleteUser(admin: { token: string }, userId: string): Promise<void> {
  const deleted = await request(app.url)
    .post("/graphql")
    .set(bearer(admin.token))
    .send({
      query: `mutation ($id: UUID!) { deleteUser(input: { userId: $id }) { deleted } }`,
      variables: { id: userId },
    });
  expect(deleted.body).toEqual({ data: { deleteUser: { deleted: true } } });
}

async function loginStatus(login: string, withPassword: string): Promise<number> {
  return (await request(app.url).post("/api/auth/login").send({ tenant: tenant.slug, login, password: withPassword }))
    .status;
}

test("a reset makes the user's other reset links unusable; so does a password change", async () => {
  const user = await createUser(app.db.ownerPool, tenant, "member", { password });
  const [first, second] = await resetTokens(user.email, 2);
  const api = request(app.url);
  expect(
    (await api.post("/api/auth/reset/confirm").send({ token: first, newPassword: "the new passphrase" })).status,
  ).toBe(200);
  const late = await api.post("/api/auth/reset/confirm").send({ token: second, newPassword: "an attacker's choice" });
  expect([late.status, late.body.error.code]).toEqual([401, "INVALID_TOKEN"]);
  expect(await loginStatus(user.email, "the new passphrase")).toBe(200);

  const other = await createUser(app.db.ownerPool, tenant, "member", { password });
  const [pending] = await resetTokens(other.email, 1);
  const changed = await api
    .post("/api/auth/password/change")
    .set(bearer(other.token))
    .send({ currentPassword: password, newPassword: "changed on purpose" });
  expect(changed.status).toBe(200);
  const stale = await api.post("/api/auth/reset/confirm").send({ token: pending, newPassword: "an attacker's choice" });
  expect([stale.status, stale.body.error.code]).toEqual([401, "INVALID_TOKEN"]);
  expect(await loginStatus(other.email, "changed on purpose")).toBe(200);
});

test("a reset link sent before the user was deleted does nothing after it", async () => {
  const admin = await createUser(app.db.ownerPool, tenant, "owner", { password });
  const user = await createUser(app.db.ownerPool, tenant, "member", { password });
  const [token] = await resetTokens(user.email, 1);
  const storedHashes = async () =>
    (
      await app.db.ownerPool.query<{ password_hash: string }>(
        "select password_hash from app_private.user_secrets where user_id = $1",
        [user.id],
      )
    ).rows.map((row) => row.password_hash);
  const before = await storedHashes();
  await deleteUser(admin, user.id);
  const late = await request(app.url)
    .post("/api/auth/reset/confirm")
    .send({ token, newPassword: "an attacker's choice" });
  expect([late.status, late.body.error.code]).toEqual([401, "INVALID_TOKEN"]);
  // Nothing written: the stored hash is the one from before (or none, once the scrub has run).
  expect([before, []]).toContainEqual(await storedHashes());
});

test("a two-factor login begun before the user was deleted is INVALID_TOKEN, before and after the scrub", async () => {
  // Fails on the code that answered INVALID_CREDENTIALS, then CONFLICT TWO_FACTOR_DISABLED once scrubbed.
  const admin = await createUser(app.db.ownerPool, tenant, "owner", { password });
  const user = await createUser(app.db.ownerPool, tenant, "member", { password });
  const api = request(app.url);
  const { secret } = (await api.post("/api/auth/2fa/enable").set(bearer(user.token))).body as { secret: string };
  const confirmed = await api
    .post("/api/auth/2fa/confirm")
    .set(bearer(user.token))
    .send({ code: await totpCode(secret) });
  expect(confirmed.status).toBe(200);
  const step1 = await api.post("/api/auth/login").send({ tenant: tenant.slug, login: user.email, password });
  expect(step1.body).toMatchObject({ twoFactorRequired: true });
  await deleteUser(admin, user.id);
  const verify = async () => {
    const answer = await api
      .post("/api/auth/2fa/verify")
      .send({ twoFactorToken: step1.body.twoFactorToken, code: await totpCode(secret, 1) });
    return [answer.status, answer.body.error?.code];
  };
  expect(await verify()).toEqual([401, "INVALID_TOKEN"]);
  await app.db.ownerPool.query("select app_private.scrub_user($1)", [user.id]);
  expect(await verify()).toEqual([401, "INVALID_TOKEN"]);
});

test("parallel password changes from one old password: one wins, the others are told it is not current", async () => {
  const user = await createUser(app.db.ownerPool, tenant, "member", { password });
  const answers = await Promise.all(
    [0, 1, 2, 3, 4].map((i) =>
      request(app.url)
        .post("/api/auth/password/change")
        .set(bearer(user.token))
        .send({ currentPassword: password, newPassword: `new passphrase number ${i}` })
        .then((answer) => ({ i, status: answer.status, code: answer.body.error?.code as string | undefined })),
    ),
  );
  const winners = answers.filter((answer) => answer.status === 200);
  expect(winners).toHaveLength(1);
  expect(answers.filter((answer) => answer.status !== 200).map((answer) => [answer.status, answer.code])).toEqual(
    Array(4).fill([401, "INVALID_CREDENTIALS"]),
  );
  for (const { i } of answers) {
    expect(await loginStatus(user.email, `new passphrase number ${i}`)).toBe(i === winners[0]!.i ? 200 : 401);
  }
});

test("a registration confirmed again, at once or later, is USED; a domain with an empty label is refused", async () => {
  const api = request(app.url);
  const email = "twice@example.test";
  const registered = await api
    .post("/api/auth/register")
    .send({ tenant: tenant.slug, email, username: "twice", password });
  expect(registered.status).toBe(202);
  const code = /\b(\d{6})\b/.exec(bodyOf(await smtp.waitFor(email, /confirmation code/)))![1];
  const confirm = () =>
    api
      .post("/api/auth/register/confirm")
      .send({ registrationToken: registered.body.registrationToken, code })
      .then((answer) => [answer.status, answer.body.error?.code, answer.body.error?.details?.reason]);
  const parallel = await Promise.all(Array.from({ length: 10 }, confirm));
  expect(parallel.filter(([status]) => status === 201)).toHaveLength(1);
  expect(parallel.filter(([status]) => status !== 201)).toEqual(Array(9).fill([401, "INVALID_TOKEN", "USED"]));
  expect(await confirm()).toEqual([401, "INVALID_TOKEN", "USED"]);

  for (const address of ["dot@example.test.", "dot@.example.test", "dot@example..test"]) {
    const refused = await api
      .post("/api/auth/register")
      .send({ tenant: tenant.slug, email: address, username: "dot", password });
    expect([refused.status, refused.body.error.code, Object.keys(refused.body.error.details.fields)]).toEqual([
      400,
      "VALIDATION_FAILED",
      ["email"],
    ]);
  }
});
