/**
 * REST parity for identity: each route hands its body and caller to the same
 * AuthService method as the GraphQL mutation; errors map through the one table.
 */
import { Router, type Request } from "express";
import type { AuthService } from "./service.ts";
import { callerOf } from "../../platform/http/authenticate.ts";

const isForm = (req: Request) => req.is("application/x-www-form-urlencoded") === "application/x-www-form-urlencoded";

export function authRoutes(auth: AuthService): Router {
  const router = Router();

  router.post("/auth/register", async (req, res) => {
    res.status(202).json(await auth.register(req.body, callerOf(req)));
  });

  router.post("/auth/register/confirm", async (req, res) => {
    res.status(201).json(await auth.confirmRegistration(req.body, callerOf(req)));
  });

  // JSON {tenant, login, password}, or an OAuth2 password form {username, password, tenant | client_id}.
  router.post("/auth/login", async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!isForm(req)) {
      res.json(await auth.login(body, callerOf(req)));
      return;
    }
    const answer = await auth.login(
      { tenant: body.tenant ?? body.client_id, login: body.username, password: body.password },
      callerOf(req),
    );
    res.json({ ...answer, access_token: answer.accessToken, token_type: answer.accessToken ? "bearer" : undefined });
  });

  router.post("/auth/2fa/verify", async (req, res) => {
    res.json(await auth.verifyTwoFactor(req.body, callerOf(req)));
  });

  router.post("/auth/refresh", async (req, res) => {
    const refreshToken =
      req.get("x-refresh-token") ?? (req.body as { refreshToken?: unknown } | undefined)?.refreshToken;
    res.json(await auth.refreshSession({ refreshToken }, callerOf(req)));
  });

  router.post("/auth/logout", async (req, res) => {
    res.json(await auth.logout(callerOf(req), req.get("x-refresh-token")));
  });

  router.post("/auth/password/forgot", async (req, res) => {
    res.status(202).json(await auth.forgotPassword(req.body, callerOf(req)));
  });

  router.post("/auth/reset/confirm", async (req, res) => {
    res.json(await auth.resetPassword(req.body, callerOf(req)));
  });

  router.post("/auth/password/change", async (req, res) => {
    res.json(await auth.changePassword(req.body, callerOf(req)));
  });

  router.post("/auth/2fa/enable", async (req, res) => {
    res.json(await auth.enableTwoFactor(callerOf(req)));
  });

  router.post("/auth/2fa/confirm", async (req, res) => {
    res.json(await auth.confirmTwoFactor(req.body, callerOf(req)));
  });

  router.post("/auth/2fa/disable", async (req, res) => {
    res.json(await auth.disableTwoFactor(req.body, callerOf(req)));
  });

  return router;
}
