/** GET /api/users/me and /api/users/{id}: in-process GraphQL, so RLS decides what is visible. Specs: api.ts. */
import type { Router } from "express";
import { CurrentUserDocument, UserByIdDocument } from "../../generated/graphql.ts";
import { AppError } from "../../platform/errors.ts";
import type { OperationRunner } from "../../platform/graphql/execute.ts";
import { apiRouter, implement } from "../../platform/http/routeTable.ts";
import * as api from "./api.ts";

export function userRoutes(runOperation: OperationRunner): Router {
  return apiRouter([
    implement(api.currentUser, async ({ req, res }) => {
      const { currentUser } = await runOperation(CurrentUserDocument, {}, { req, res });
      if (!currentUser) throw new AppError("UNAUTHENTICATED");
      return { status: 200, body: currentUser };
    }),
    // The id is checked by the spec (400 VALIDATION_FAILED naming `id` when it is no UUID).
    implement(api.userById, async ({ params, req, res }) => {
      const { user } = await runOperation(UserByIdDocument, { id: params.id }, { req, res });
      if (!user) throw new AppError("NOT_FOUND", "No such user.");
      return { status: 200, body: user };
    }),
  ]);
}
