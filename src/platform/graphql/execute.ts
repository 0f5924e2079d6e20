/**
 * Runs one of the server's own GraphQL documents in-process, for REST shims. The request's
 * context goes through the same callback as /graphql, so RLS and claims apply identically.
 */
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import type { Request, Response } from "express";
import type { PostGraphileInstance } from "postgraphile";
import { execute, hookArgs } from "postgraphile/grafast";
import type { ExecutionResult } from "postgraphile/graphql";
import { classifyGraphQLError } from "./maskError.ts";

export type OperationRunner = <TResult, TVariables extends Record<string, unknown>>(
  document: TypedDocumentNode<TResult, TVariables>,
  variables: TVariables,
  http: { req: Request; res: Response },
) => Promise<TResult>;

export function makeOperationRunner(pgl: PostGraphileInstance): OperationRunner {
  return async (document, variables, http) => {
    const { schema, resolvedPreset } = await pgl.getSchemaResult();
    const args = await hookArgs({
      schema,
      document,
      variableValues: variables,
      resolvedPreset,
      requestContext: { expressv4: http },
    });
    const result = (await execute(args)) as ExecutionResult;
    const [first] = result.errors ?? [];
    if (first) throw classifyGraphQLError(first);
    return result.data as never;
  };
}
