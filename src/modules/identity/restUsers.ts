/** GET /api/users/me and /api/users/{id}: in-process GraphQL, so RLS decides what is visible. */
import { Router } from "express";
import { AppError } from "../../platform/errors.ts";
import { CurrentUserDocument, UserByIdDocument } from "../../generated/graphql.ts";
import type { OperationRunner } from "../../platform/graphql/execute.ts";
import { requireUser } from "../../platform/http/authenticate.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function userRoutes(runOperation: OperationRunner): Router {
  const router = Router();
  router.get("/users/me", async (req, res) => {
    requireUser(req);
    const { currentUser } = await runOperation(CurrentUserDocument, {}, { req, res });
    if (!currentUser) throw new AppError("UNAUTHENTICATED");
    res.json(currentUser);
  });
  router.get("/users/:id", async (req, res) => {
    requireUser(req);
    const id = req.params.id;
    if (!UUID.test(id))
      throw new AppError("VALIDATION_FAILED", "The id must be a UUID.", {
        details: { fields: { id: "must be a UUID" } },
      });
    const { user } = await runOperation(UserByIdDocument, { id }, { req, res });
    if (!user) throw new AppError("NOT_FOUND", "No such user.");
    res.json(user);
  });
  return router;
}
