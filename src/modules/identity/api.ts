/**
 * Identity's REST routes as data (the route table): /api/auth/* and /api/users/*. The auth bodies
 * are documented here and validated by AuthService (`validate: false`), which names bad fields the
 * same way for GraphQL and REST; restAuth.ts and restUsers.ts implement the specs.
 */
import { z } from "zod";
import type { ErrorCode } from "../../platform/errors.ts";
import { defineRoute, type RouteSpec } from "../../platform/http/routeSpec.ts";
import { schemas } from "./validation.ts";

const AuthUser = z
  .object({ id: z.uuid(), email: z.string(), username: z.string(), fullName: z.string().nullable() })
  .meta({ id: "AuthUser" });

const SessionAnswer = z
  .object({
    accessToken: z.string().nullable(),
    refreshToken: z.string().nullable(),
    accessTokenExpiresAt: z.string().nullable(),
    user: AuthUser.nullable(),
    twoFactorRequired: z.boolean(),
    twoFactorToken: z
      .string()
      .nullable()
      .describe("With twoFactorRequired: send it with the code to /api/auth/2fa/verify."),
  })
  .meta({ id: "SessionAnswer", description: "A session, or (twoFactorRequired) a two-factor challenge." });

const Success = z.object({ success: z.literal(true) }).meta({ id: "Success" });

const User = z
  .object({
    id: z.uuid(),
    email: z.string(),
    username: z.string(),
    fullName: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: "User" });

/** A body AuthService validates itself (its field errors are the same on GraphQL). */
const checkedByService = (schema: z.ZodType) => ({ content: { "application/json": schema }, validate: false });

// Every credential route takes rate-limit units; a suspended tenant refuses its users.
const LIMITED: ErrorCode[] = ["RATE_LIMITED", "FORBIDDEN"];
// Issuing a session refuses a user that is gone or suspended meanwhile (INVALID_CREDENTIALS).
const ISSUES_SESSION: ErrorCode[] = [...LIMITED, "INVALID_CREDENTIALS"];

/**
 * An answer that carries credentials or secrets (tokens, a TOTP secret, recovery codes): no cache may
 * keep it (RFC 6749 §5.1 asks it of token answers). Sent as it is documented.
 */
export const NO_STORE = { "Cache-Control": "no-store" } as const;

const auth = (path: string, operationId: string, summary: string) =>
  ({ method: "post", path: `/api/auth/${path}`, operationId, summary, tags: ["auth"] }) as const;

export const register = defineRoute({
  ...auth("register", "register", "Starts a registration: e-mails a code (same answer whether the e-mail is taken)"),
  body: checkedByService(schemas.register),
  responses: {
    202: {
      description: "The registration to confirm with the e-mailed code",
      schema: z.object({ registrationToken: z.string(), expiresAt: z.string() }),
    },
  },
  errors: [...LIMITED, "CONFLICT", "WEAK_PASSWORD", "NOT_FOUND"],
});

export const confirmRegistration = defineRoute({
  ...auth("register/confirm", "confirmRegistration", "Creates the account from a registration and its code"),
  body: checkedByService(schemas.confirmRegistration),
  responses: { 201: { description: "Signed in as the new user", schema: SessionAnswer, headers: NO_STORE } },
  errors: [...ISSUES_SESSION, "CONFLICT", "INVALID_TOKEN"],
});

/** An OAuth2 password form (RFC 6749 §4.3.2, with the client's own credentials): every field it may carry. */
export const LoginForm = z.object({
  username: z.string(),
  password: z.string(),
  tenant: z.string().optional(),
  client_id: z.string().optional().describe("The tenant, when `tenant` is absent (OAuth2 clients)."),
  grant_type: z.literal("password").optional(),
  client_secret: z.string().optional().describe("Accepted and not used (OAuth2 clients send it)."),
  scope: z.string().optional().describe("Accepted and not used."),
});

export const login = defineRoute({
  ...auth("login", "login", "Signs in with a password (JSON, or an OAuth2 password form)"),
  body: {
    content: {
      "application/json": schemas.login,
      "application/x-www-form-urlencoded": LoginForm,
    },
    validate: false,
  },
  responses: {
    200: {
      description:
        "A session or a two-factor challenge; a form login also gets access_token, token_type and expires_in",
      schema: SessionAnswer.extend({
        access_token: z.string().nullable().optional(),
        token_type: z.literal("bearer").optional(),
        expires_in: z.number().int().optional().describe("Seconds until the access token expires (a form login)"),
      }),
      headers: NO_STORE,
    },
  },
  errors: ISSUES_SESSION,
});

export const verifyTwoFactor = defineRoute({
  ...auth("2fa/verify", "verifyTwoFactor", "Completes a login with the two-factor code"),
  body: checkedByService(schemas.verifyTwoFactor),
  responses: { 200: { description: "Signed in", schema: SessionAnswer, headers: NO_STORE } },
  errors: [...ISSUES_SESSION, "INVALID_TOKEN", "INVALID_TWO_FACTOR_CODE"],
});

export const refreshSession = defineRoute({
  ...auth("refresh", "refreshSession", "Trades a refresh token for a new session (the token rotates)"),
  description: "The refresh token comes in the body or in the `X-Refresh-Token` header, not in both.",
  body: { ...checkedByService(schemas.refreshSession), required: false },
  responses: { 200: { description: "The new session", schema: SessionAnswer, headers: NO_STORE } },
  errors: [...ISSUES_SESSION, "INVALID_TOKEN", "TOKEN_REUSED"],
});

export const logout = defineRoute({
  ...auth("logout", "logout", "Ends the session of the access token, or without one, of the `X-Refresh-Token` header"),
  security: "bearerOptional",
  responses: { 200: { description: "Signed out", schema: Success } },
  errors: ["FORBIDDEN"],
});

export const forgotPassword = defineRoute({
  ...auth("password/forgot", "forgotPassword", "E-mails a password reset link (same answer for unknown e-mails)"),
  body: checkedByService(schemas.forgotPassword),
  responses: { 202: { description: "Accepted", schema: Success } },
  errors: LIMITED,
});

export const resetPassword = defineRoute({
  ...auth("reset/confirm", "resetPassword", "Sets a new password with a reset token"),
  body: checkedByService(schemas.resetPassword),
  responses: { 200: { description: "The password is changed; every session ends", schema: Success } },
  errors: [...LIMITED, "INVALID_TOKEN", "WEAK_PASSWORD"],
});

export const changePassword = defineRoute({
  ...auth("password/change", "changePassword", "Changes the signed-in user's password"),
  security: "bearer",
  body: checkedByService(schemas.changePassword),
  responses: { 200: { description: "Changed; the other sessions end", schema: Success } },
  errors: [...LIMITED, "INVALID_CREDENTIALS", "WEAK_PASSWORD"],
});

export const enableTwoFactor = defineRoute({
  ...auth("2fa/enable", "enableTwoFactor", "Starts two-factor enrolment: a TOTP secret to confirm"),
  security: "bearer",
  responses: {
    200: {
      description: "The pending secret",
      schema: z.object({ secret: z.string(), otpauthUri: z.string() }),
      headers: NO_STORE,
    },
  },
  errors: [...LIMITED, "CONFLICT"],
});

export const confirmTwoFactor = defineRoute({
  ...auth("2fa/confirm", "confirmTwoFactor", "Turns two-factor authentication on with a first code"),
  security: "bearer",
  body: checkedByService(schemas.twoFactorCode),
  responses: {
    200: {
      description: "On; the recovery codes, shown once",
      schema: z.object({ recoveryCodes: z.array(z.string()) }),
      headers: NO_STORE,
    },
  },
  errors: [...LIMITED, "CONFLICT", "INVALID_TWO_FACTOR_CODE"],
});

export const disableTwoFactor = defineRoute({
  ...auth("2fa/disable", "disableTwoFactor", "Turns two-factor authentication off with a code"),
  security: "bearer",
  body: checkedByService(schemas.twoFactorCode),
  responses: { 200: { description: "Off", schema: Success } },
  errors: [...LIMITED, "CONFLICT", "INVALID_TWO_FACTOR_CODE"],
});

export const currentUser = defineRoute({
  method: "get",
  path: "/api/users/me",
  operationId: "currentUser",
  summary: "The signed-in user",
  tags: ["users"],
  security: "bearer",
  responses: { 200: { description: "The user", schema: User } },
  errors: ["FORBIDDEN"],
});

export const userById = defineRoute({
  method: "get",
  path: "/api/users/{id}",
  operationId: "userById",
  summary: "A user of the caller's tenant",
  tags: ["users"],
  security: "bearer",
  params: z.object({
    id: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, "must be a UUID"),
  }),
  responses: { 200: { description: "The user", schema: User } },
  errors: ["FORBIDDEN", "NOT_FOUND"],
});

export const IDENTITY_API: readonly RouteSpec[] = [
  register,
  confirmRegistration,
  login,
  verifyTwoFactor,
  refreshSession,
  logout,
  forgotPassword,
  resetPassword,
  changePassword,
  enableTwoFactor,
  confirmTwoFactor,
  disableTwoFactor,
  currentUser,
  userById,
];
