/**
 * REST parity for identity: each route hands its body and caller to the same
 * AuthService method as the GraphQL mutation; errors map through the one table. The routes'
 * specs (paths, documented bodies and answers) are in api.ts.
 */
import type { Request, Router } from "express";
import { AppError } from "../../platform/errors.ts";
import { callerOf } from "../../platform/http/authenticate.ts";
import { apiRouter, implement } from "../../platform/http/routeTable.ts";
import * as api from "./api.ts";
import type { AuthService } from "./service.ts";

const isForm = (req: Request) => req.is("application/x-www-form-urlencoded") === "application/x-www-form-urlencoded";

/** What an OAuth2 password form may carry: the fields its documented schema names. */
const FORM_FIELDS = new Set(Object.keys(api.LoginForm.shape));

/**
 * An OAuth2 password form handed to login, held to the rules of a JSON body: a key it does not take,
 * another grant, or a tenant given both as `tenant` and as a different `client_id` is refused; a
 * field is named as the form wrote it (`username`, not login's `login`).
 */
async function formLogin(auth: AuthService, fields: Record<string, unknown>, req: Request) {
  const problems: Record<string, string> = {};
  for (const key of Object.keys(fields)) if (!FORM_FIELDS.has(key)) problems[key] = "is not allowed here";
  if (fields.grant_type !== undefined && fields.grant_type !== "password") problems.grant_type = "must be password";
  if (fields.tenant !== undefined && fields.client_id !== undefined && fields.tenant !== fields.client_id)
    problems.tenant = "given twice: as tenant and as a different client_id";
  if (Object.keys(problems).length > 0)
    throw new AppError("VALIDATION_FAILED", "Some fields are not valid.", { details: { fields: problems } });
  const tenantField = fields.tenant !== undefined ? "tenant" : "client_id";
  try {
    return await auth.login(
      { tenant: fields.tenant ?? fields.client_id, login: fields.username, password: fields.password },
      callerOf(req),
    );
  } catch (error) {
    const named = error instanceof AppError ? (error.details?.fields as Record<string, string> | undefined) : undefined;
    if (!named) throw error;
    const formName = (key: string) => (key === "login" ? "username" : key === "tenant" ? tenantField : key);
    const renamed = Object.fromEntries(Object.entries(named).map(([key, message]) => [formName(key), message]));
    throw new AppError((error as AppError).code, (error as AppError).message, { details: { fields: renamed } });
  }
}

export function authRoutes(auth: AuthService): Router {
  return apiRouter([
    implement(api.register, async ({ body, req }) => ({
      status: 202,
      body: await auth.register(body, callerOf(req)),
    })),
    implement(api.confirmRegistration, async ({ body, req }) => ({
      status: 201,
      body: await auth.confirmRegistration(body, callerOf(req)),
      headers: api.NO_STORE,
    })),
    // JSON {tenant, login, password}, or an OAuth2 password form {username, password, tenant | client_id}.
    implement(api.login, async ({ body, req }) => {
      const fields = (body ?? {}) as Record<string, unknown>;
      if (!isForm(req)) return { status: 200, body: await auth.login(fields, callerOf(req)), headers: api.NO_STORE };
      const answer = await formLogin(auth, fields, req);
      // RFC 6749 §5.1: the token's type and its lifetime in seconds, as of this answer.
      const tokenType = answer.accessTokenExpiresAt
        ? {
            token_type: "bearer" as const,
            expires_in: Math.max(0, Math.round((Date.parse(answer.accessTokenExpiresAt) - Date.now()) / 1000)),
          }
        : {};
      return {
        status: 200,
        body: { ...answer, access_token: answer.accessToken, ...tokenType },
        headers: api.NO_STORE,
      };
    }),
    implement(api.verifyTwoFactor, async ({ body, req }) => ({
      status: 200,
      body: await auth.verifyTwoFactor(body, callerOf(req)),
      headers: api.NO_STORE,
    })),
    implement(api.refreshSession, async ({ body, req }) => {
      const inHeader = req.get("x-refresh-token");
      const fields = (body ?? {}) as Record<string, unknown>;
      const inBody = fields.refreshToken;
      // Two tokens are one too many: which one a proxy or a log saw is not which one would rotate.
      if (inHeader !== undefined && inBody !== undefined) {
        throw new AppError(
          "VALIDATION_FAILED",
          "Give the refresh token in the X-Refresh-Token header or in the body, not both.",
          {
            details: { fields: { refreshToken: "given twice: in the header and in the body" } },
          },
        );
      }
      // The body's other keys go along, so that a key the operation does not take is refused either way.
      const input = { ...fields, refreshToken: inHeader ?? inBody };
      return { status: 200, body: await auth.refreshSession(input, callerOf(req)), headers: api.NO_STORE };
    }),
    implement(api.logout, async ({ req }) => ({
      status: 200,
      body: await auth.logout(callerOf(req), req.get("x-refresh-token")),
    })),
    implement(api.forgotPassword, async ({ body, req }) => ({
      status: 202,
      body: await auth.forgotPassword(body, callerOf(req)),
    })),
    implement(api.resetPassword, async ({ body, req }) => ({
      status: 200,
      body: await auth.resetPassword(body, callerOf(req)),
    })),
    implement(api.changePassword, async ({ body, req }) => ({
      status: 200,
      body: await auth.changePassword(body, callerOf(req)),
    })),
    implement(api.enableTwoFactor, async ({ req }) => ({
      status: 200,
      body: await auth.enableTwoFactor(callerOf(req)),
      headers: api.NO_STORE,
    })),
    implement(api.confirmTwoFactor, async ({ body, req }) => ({
      status: 200,
      body: await auth.confirmTwoFactor(body, callerOf(req)),
      headers: api.NO_STORE,
    })),
    implement(api.disableTwoFactor, async ({ body, req }) => ({
      status: 200,
      body: await auth.disableTwoFactor(body, callerOf(req)),
    })),
  ]);
}
