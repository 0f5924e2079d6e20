/**
 * A caller who is not signed in and is refused for want of a privilege (the database's 42501: no
 * grant for the anonymous role, or a row-level security check) is told to sign in: UNAUTHENTICATED,
 * "Sign in first.", as the functions that check the caller themselves answer. Generated mutations
 * (`createCategory`, `createProduct`, …) had answered an anonymous caller FORBIDDEN, "You are not
 * allowed to do this.", where `createEvent` answered UNAUTHENTICATED. A signed-in caller's refusal
 * stays FORBIDDEN.
 */
import { isAsyncIterable, isPromiseLike } from "postgraphile/grafast";
import { type ExecutionResult, GraphQLError } from "postgraphile/graphql";
import { AppError } from "../errors.ts";
import type { Caller } from "./context.ts";
import { classifyGraphQLError } from "./maskError.ts";

const SIGN_IN_FIRST = "Sign in first.";

function signInFirst(error: GraphQLError): GraphQLError {
  if (classifyGraphQLError(error).code !== "FORBIDDEN") return error;
  return new GraphQLError(SIGN_IN_FIRST, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: new AppError("UNAUTHENTICATED", SIGN_IN_FIRST),
  });
}

function withSignInFirst<T>(result: T): T {
  if (isAsyncIterable(result)) return result;
  const errors = (result as ExecutionResult | undefined)?.errors;
  if (!errors?.length) return result;
  return { ...(result as ExecutionResult), errors: errors.map(signInFirst) } as T;
}

export const SignInFirstPlugin: GraphileConfig.Plugin = {
  name: "TesseraSignInFirst",
  version: "0.1.0",
  grafast: {
    middleware: {
      execute(next, event) {
        const result = next();
        if ((event.args.contextValue as { caller?: Caller } | undefined)?.caller?.claims) return result;
        return isPromiseLike(result) ? Promise.resolve(result).then(withSignInFirst) : withSignInFirst(result);
      },
    },
  },
};
