/**
 * The whole identity lifecycle over GraphQL, as a client would live it: register → code by
 * e-mail → confirm → refresh → reuse detection → login → 2FA → logout → two-step login → replay
 * refused → forgotten password → every earlier session dead.
 */
import { startTestApp, type GraphQLBody, type TestApp } from "../helpers/app.ts";
import { createTenant } from "../helpers/fixtures.ts";
import { bodyOf, startSmtpCapture, type SmtpCapture } from "../helpers/smtp.ts";
import { DOCS, totpCode } from "./helpers.ts";

let app: TestApp;
let smtp: SmtpCapture;
const logLines: string[] = [];

beforeAll(async () => {
  smtp = await startSmtpCapture();
  app = await startTestApp({ worker: true, env: { SMTP_URL: smtp.url }, logLines });
  await createTenant(app.db.ownerPool, "acme");
});
afterAll(async () => {
  await app.stop();
  await smtp.close();
});

interface Session {
  accessToken: string;
  refreshToken: string;
  twoFactorRequired: boolean;
  twoFactorToken: string | null;
  user: { id: string; rowId: string; email: string; username: string; fullName: string | null };
}

async function ok<T>(query: string, variables?: Record<string, unknown>, token?: string): Promise<T> {
  const { body } = await app.graphql(query, variables, token);
  if (body.errors) throw new Error(`unexpected errors: ${JSON.stringify(body.errors)}`);
  return Object.values(body.data ?? {})[0] as T;
}

async function errorCode(
  query: string,
  variables?: Record<string, unknown>,
  token?: string,
): Promise<string | undefined> {
  const { status, body } = await app.graphql(query, variables, token);
  return status === 401 && !body.data
    ? `HTTP401:${body.errors?.[0]?.extensions?.code}`
    : body.errors?.[0]?.extensions?.code;
}

const email = "ada@example.test";
const password = "correct horse battery staple";
const newPassword = "a whole new passphrase 42";

test("register → confirm → refresh → reuse → 2FA → logout → two-step login → reset", async () => {
  // Register; the code arrives by e-mail over real SMTP.
  const registration = await ok<{ registrationToken: string }>(DOCS.register, {
    input: { tenant: "acme", email, username: "ada", fullName: "Ada Lovelace", password },
  });
  const codeMail = await smtp.waitFor(email, /confirmation code/);
  const code = /\b(\d{6})\b/.exec(bodyOf(codeMail))?.[1];
  expect(code).toMatch(/^\d{6}$/);
  expect(
    await app.db.ownerPool.query("select 1 from app_public.users where email = $1", [email]).then((r) => r.rowCount),
  ).toBe(0);

  const first = await ok<Session>(DOCS.confirmRegistration, {
    input: { registrationToken: registration.registrationToken, code },
  });
  expect(first.user).toEqual({
    id: expect.any(String),
    rowId: expect.any(String),
    email,
    username: "ada",
    fullName: "Ada Lovelace",
  });
  expect(await ok(DOCS.currentUser, {}, first.accessToken)).toEqual({
    rowId: first.user.rowId,
    email,
    username: "ada",
  });
  // As on every other type, `id` is the global id: node(id:) finds the same user.
  expect(
    await ok(`query ($id: ID!) { node(id: $id) { ... on User { rowId } } }`, { id: first.user.id }, first.accessToken),
  ).toEqual({ rowId: first.user.rowId });
  // The same code cannot confirm twice.
  expect(
    await errorCode(DOCS.confirmRegistration, { input: { registrationToken: registration.registrationToken, code } }),
  ).toBe("INVALID_TOKEN");

  // Refresh rotates; then presenting the first token again (its child already used) revokes the session.
  const second = await ok<Session>(DOCS.refreshSession, { input: { refreshToken: first.refreshToken } });
  const third = await ok<Session>(DOCS.refreshSession, { input: { refreshToken: second.refreshToken } });
  expect(await ok(DOCS.currentUser, {}, third.accessToken)).toMatchObject({ email });
  expect(await errorCode(DOCS.refreshSession, { input: { refreshToken: first.refreshToken } })).toBe("TOKEN_REUSED");
  expect(await errorCode(DOCS.currentUser, {}, third.accessToken)).toBe("HTTP401:UNAUTHENTICATED");
  expect(await errorCode(DOCS.refreshSession, { input: { refreshToken: third.refreshToken } })).toBe("INVALID_TOKEN");

  // Login, enable and confirm 2FA.
  const login = await ok<Session>(DOCS.login, { input: { tenant: "acme", login: email, password } });
  expect(login.twoFactorRequired).toBe(false);
  const enrolment = await ok<{ secret: string; otpauthUri: string }>(DOCS.enableTwoFactor, {}, login.accessToken);
  expect(enrolment.otpauthUri).toMatch(/^otpauth:\/\/totp\/Tessera:/);
  const { recoveryCodes } = await ok<{ recoveryCodes: string[] }>(
    DOCS.confirmTwoFactor,
    { input: { code: await totpCode(enrolment.secret) } },
    login.accessToken,
  );
  expect(new Set(recoveryCodes).size).toBe(10);
  await smtp.waitFor(email, /Two-factor authentication is on/);
  // At rest the secret is sealed (AES-GCM) and the recovery codes are hashes.
  const stored = await app.db.ownerPool.query(
    "select s.totp_secret, (select array_agg(encode(code_hash, 'hex')) from app_private.recovery_codes c " +
      "where c.user_id = s.user_id) as codes from app_private.user_secrets s where s.user_id = $1",
    [first.user.rowId],
  );
  expect(stored.rows[0].totp_secret).toMatch(/^v1\./);
  expect(JSON.stringify(stored.rows[0])).not.toContain(enrolment.secret);
  expect(JSON.stringify(stored.rows[0])).not.toContain(recoveryCodes[0]);
  expect(await ok(`{ currentSession { rowId isCurrent } }`, {}, login.accessToken)).toEqual({
    rowId: expect.any(String),
    isCurrent: true,
  });

  // Logout ends that session on its next request.
  expect(await ok(DOCS.logout, {}, login.accessToken)).toEqual({ success: true });
  expect(await errorCode(DOCS.currentUser, {}, login.accessToken)).toBe("HTTP401:UNAUTHENTICATED");

  // Two-step login with a TOTP code (the next time step: the enrolment used the current one).
  const challenge = await ok<Session>(DOCS.login, { input: { tenant: "acme", login: "ada", password } });
  expect(challenge).toMatchObject({ twoFactorRequired: true, accessToken: null, twoFactorToken: expect.any(String) });
  const totp = await totpCode(enrolment.secret, 1);
  const twoStep = await ok<Session>(DOCS.verifyTwoFactor, {
    input: { twoFactorToken: challenge.twoFactorToken, code: totp },
  });
  expect(twoStep.user.email).toBe(email);
  // The same code again, on a fresh challenge, is refused.
  const again = await ok<Session>(DOCS.login, { input: { tenant: "acme", login: email, password } });
  expect(await errorCode(DOCS.verifyTwoFactor, { input: { twoFactorToken: again.twoFactorToken, code: totp } })).toBe(
    "INVALID_TWO_FACTOR_CODE",
  );
  // A recovery code works once.
  const recovered = await ok<Session>(DOCS.verifyTwoFactor, {
    input: { twoFactorToken: again.twoFactorToken, code: recoveryCodes[0] },
  });
  expect(recovered.accessToken).toEqual(expect.any(String));

  // Forgotten password: the token arrives by e-mail; resetting revokes every session.
  expect(await ok(DOCS.forgotPassword, { input: { tenant: "acme", email } })).toEqual({ success: true });
  const resetMail = await smtp.waitFor(email, /Reset your Tessera password/);
  const resetToken = /password: ([\w-]{20,})/.exec(bodyOf(resetMail))?.[1];
  expect(resetToken).toBeDefined();
  expect(await ok(DOCS.resetPassword, { input: { token: resetToken, newPassword } })).toEqual({ success: true });
  for (const earlier of [twoStep, recovered]) {
    expect(await errorCode(DOCS.currentUser, {}, earlier.accessToken)).toBe("HTTP401:UNAUTHENTICATED");
  }
  expect(
    await errorCode(DOCS.resetPassword, { input: { token: resetToken, newPassword: "yet another passphrase 7" } }),
  ).toBe("INVALID_TOKEN");
  await smtp.waitFor(email, /password was changed/);
  expect(await errorCode(DOCS.login, { input: { tenant: "acme", login: email, password } })).toBe(
    "INVALID_CREDENTIALS",
  );
  expect(
    (await ok<Session>(DOCS.login, { input: { tenant: "acme", login: email, password: newPassword } }))
      .twoFactorRequired,
  ).toBe(true);

  // Nothing secret leaked into the logs, and only the e-mails meant to carry a secret carry one.
  const logs = logLines.join("\n");
  for (const secret of [
    password,
    newPassword,
    code!,
    first.refreshToken,
    third.accessToken,
    enrolment.secret,
    resetToken!,
    recoveryCodes[0]!,
  ]) {
    expect(logs).not.toContain(secret);
  }
  for (const mail of smtp.messages) {
    const text = bodyOf(mail);
    expect(text).not.toContain(password);
    expect(text).not.toContain(newPassword);
    if (!/confirmation code/.test(mail.subject)) expect(text).not.toContain(code);
    if (!/Reset your/.test(mail.subject)) expect(text).not.toContain(resetToken);
  }
});

test("a refresh retried within the grace period is not punished", async () => {
  await createTenant(app.db.ownerPool, "retry-co");
  const { registrationToken } = await ok<{ registrationToken: string }>(DOCS.register, {
    input: { tenant: "retry-co", email: "bob@example.test", username: "bob", password },
  });
  const code = /\b(\d{6})\b/.exec(bodyOf(await smtp.waitFor("bob@example.test", /confirmation code/)))?.[1];
  const session = await ok<Session>(DOCS.confirmRegistration, { input: { registrationToken, code } });
  const lost = await ok<Session>(DOCS.refreshSession, { input: { refreshToken: session.refreshToken } });
  // The client never saw `lost` and retries with the same token.
  const retried = await ok<Session>(DOCS.refreshSession, { input: { refreshToken: session.refreshToken } });
  expect(await ok(DOCS.currentUser, {}, retried.accessToken)).toMatchObject({ email: "bob@example.test" });
  // The retry gets the very pair it lost (test/identity/refresh.test.ts covers concurrency).
  expect(retried.refreshToken).toBe(lost.refreshToken);
});

test("no GraphQL output type exposes a password, hash or stored secret", async () => {
  const { body } = await app.graphql(`{ __schema { types { name kind fields { name } } } }`);
  const fields = (
    (body as GraphQLBody).data as {
      __schema: { types: Array<{ name: string; kind: string; fields: Array<{ name: string }> | null }> };
    }
  ).__schema.types
    .filter((type) => type.kind === "OBJECT" && !type.name.startsWith("__") && type.name !== "Mutation")
    .flatMap((type) => (type.fields ?? []).map((field) => `${type.name}.${field.name}`))
    .filter((name) => /password|hash|secret|totp/i.test(name));
  // The enrolment secret is shown to its owner once, and a new API key's secret to the admin who
  // made it, once: by design.
  expect(fields.sort()).toEqual(["EnableTwoFactorPayload.secret", "NewApiKey.secret"]);
});
