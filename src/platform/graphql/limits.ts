/**
 * GraphQL hardening (V5 has no built-in depth or cost limit): validation rules that run before
 * any SQL — depth, cost, number of field selections, expensive identity mutations, maximum page
 * size (literals and variable defaults), introspection off in production, no "Did you mean"
 * suggestions when introspection is off — plus, in grafserv's body hook (HTTP and WebSocket), a
 * token cap checked before the document is parsed and a check of page sizes given as variables,
 * which validation cannot see. What an operation counts is measured in operationMeasure.ts.
 */
import {
  GraphQLError,
  Kind,
  Lexer,
  NoSchemaIntrospectionCustomRule,
  Source,
  TokenKind,
  type ASTVisitor,
  type ValidationContext,
  type ValidationRule,
  parse,
  visit,
} from "postgraphile/graphql";
import { SafeError } from "postgraphile/grafast";
import { nestsDeeperThan } from "../jsonDepth.ts";
import { withSubscriptionRootRule } from "./subscriptionRoot.ts";
import {
  MAX_INTROSPECTION_SELECTIONS,
  PAGE_ARGS,
  measure,
  measuredFields,
  tooComplex,
  type GraphQLLimits,
  type Walk,
} from "./operationMeasure.ts";

export { MAX_INTROSPECTION_SELECTIONS, type GraphQLLimits } from "./operationMeasure.ts";

export const DEFAULT_MAX_FIELDS = 1000;
export const DEFAULT_MAX_TOKENS = 5_000;
export const DEFAULT_MAX_EXPENSIVE_FIELDS = 1;

export function makeLimitRules(limits: GraphQLLimits): ValidationRule[] {
  const maxFields = limits.maxFields ?? DEFAULT_MAX_FIELDS;
  const maxExpensive = limits.maxExpensiveFields ?? DEFAULT_MAX_EXPENSIVE_FIELDS;
  const operationLimits: ValidationRule = (context): ASTVisitor => {
    const schema = context.getSchema();
    const walk: Walk = { context, limits, mutationType: schema.getMutationType() ?? undefined, fragments: new Map() };
    /** Variables passed to `first` / `last` anywhere in the document. */
    const pageVariables = new Set<string>();
    return {
      Argument(node) {
        if (PAGE_ARGS.has(node.name.value) && node.value.kind === Kind.VARIABLE)
          pageVariables.add(node.value.name.value);
      },
      OperationDefinition(node) {
        const root =
          node.operation === "query"
            ? schema.getQueryType()
            : node.operation === "mutation"
              ? schema.getMutationType()
              : schema.getSubscriptionType();
        const { depth, cost, fields, expensive, introspection } = measure(walk, node.selectionSet, root ?? undefined);
        measuredFields.set(node, fields);
        if (introspection > MAX_INTROSPECTION_SELECTIONS) {
          context.reportError(
            tooComplex(
              `The operation selects __schema or __type ${introspection} times; ` +
                `at most ${MAX_INTROSPECTION_SELECTIONS} are allowed.`,
              "TOO_MUCH_INTROSPECTION",
            ),
          );
        }
        if (fields > maxFields) {
          context.reportError(
            tooComplex(`The operation selects ${fields} fields; at most ${maxFields} are allowed.`, "TOO_MANY_FIELDS"),
          );
        }
        if (expensive > maxExpensive) {
          context.reportError(
            tooComplex(
              `The operation calls ${expensive} costly mutations (sign-in, password, e-mail, builds…); ` +
                `at most ${maxExpensive} per request is allowed.`,
              "TOO_MANY_EXPENSIVE_FIELDS",
            ),
          );
        }
        if (depth > limits.maxDepth) {
          context.reportError(
            tooComplex(`The query is ${depth} levels deep; at most ${limits.maxDepth} are allowed.`, "TOO_DEEP"),
          );
        }
        if (cost > limits.maxCost) {
          context.reportError(
            tooComplex(`The query's estimated cost is ${cost}; at most ${limits.maxCost} is allowed.`, "TOO_COSTLY"),
          );
        }
      },
      Document: {
        // Arguments are all seen by now: a page-size variable's default obeys the maximum too.
        leave(document) {
          for (const definition of document.definitions) {
            if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
            for (const variable of definition.variableDefinitions ?? []) {
              const name = variable.variable.name.value;
              const value = variable.defaultValue;
              if (pageVariables.has(name) && value?.kind === Kind.INT && Number(value.value) > limits.maxPageSize) {
                context.reportError(
                  new GraphQLError(
                    `$${name} (a page size) may be at most ${limits.maxPageSize}, its default included.`,
                    {
                      nodes: [variable],
                      extensions: { code: "QUERY_TOO_COMPLEX", details: { reason: "PAGE_TOO_LARGE" } },
                    },
                  ),
                );
              }
            }
          }
        },
      },
    };
  };
  return limits.introspection ? [operationLimits] : [operationLimits, NoSchemaIntrospectionCustomRule];
}

/**
 * A rule that sees `hideSuggestions` set: graphql-js then leaves "Did you mean …?" out of its
 * messages (field, argument, type and enum value names that would reveal the schema).
 */
export function withoutSuggestions(rule: ValidationRule): ValidationRule {
  return (context) => rule(Object.create(context, { hideSuggestions: { value: true } }) as ValidationContext);
}

/** graphql-js appends its suggestions at the end of a message: ` Did you mean "x", or "y"?`. */
const SUGGESTION = /\s*Did you mean [\s\S]*\?\s*$/;

/** The message without graphql-js's "Did you mean …?" tail (for errors raised outside validation). */
export function stripSuggestions(message: string): string {
  return message.replace(SUGGESTION, "");
}

/**
 * Grafserv plugin adding the rules to every GraphQL request (HTTP and WebSocket), and refusing,
 * before the document is parsed, documents over the token cap or the nesting cap and page sizes
 * passed as variables above the maximum.
 */
export function makeLimitsPlugin(limits: GraphQLLimits): GraphileConfig.Plugin {
  const rules = makeLimitRules(limits);
  const maxTokens = limits.maxTokens ?? DEFAULT_MAX_TOKENS;
  return {
    name: "TesseraGraphQLLimits",
    version: "0.1.0",
    grafserv: {
      middleware: {
        setPreset(next, event) {
          // Without introspection, the schema is not the client's to discover through suggestions either.
          const all = [...event.validationRules.map(withSubscriptionRootRule), ...rules];
          event.validationRules.splice(
            0,
            event.validationRules.length,
            ...(limits.introspection ? all : all.map(withoutSuggestions)),
          );
          return next();
        },
        processGraphQLRequestBody(next, event) {
          const body = event.body as { query?: unknown; variableValues?: unknown };
          checkLexically(body.query, maxTokens);
          // A JSON variable thousands of levels deep overflows the stack of whatever walks it
          // (coercion, serialisation): refused here, like a document's brackets.
          if (nestsDeeperThan(body.variableValues, MAX_NESTING + 1))
            throw bodyRefusal(`The variables nest more than ${MAX_NESTING} deep.`, "TOO_DEEP");
          checkPageVariables(body, limits.maxPageSize);
          return next();
        },
      },
    },
  };
}

/** Brackets (`{`, `[`, `(`) a document may nest: far beyond any real one, far below the parser's stack. */
const MAX_NESTING = 100;

const OPENING = new Set<TokenKind>([TokenKind.BRACE_L, TokenKind.BRACKET_L, TokenKind.PAREN_L]);
const CLOSING = new Set<TokenKind>([TokenKind.BRACE_R, TokenKind.BRACKET_R, TokenKind.PAREN_R]);

/**
 * Refuses, with the lexer alone (no AST), a document with more than `maxTokens` lexical tokens or
 * nesting brackets deeper than MAX_NESTING: graphql-js parses recursively, and a few kilobytes of
 * `[[[…` (a list value) or `{ a { a { …` overflow its stack before any rule could measure the depth.
 * Every token is at least one character and every level needs an opening bracket, so a document
 * shorter than the token cap with few opening brackets (counted character by character) is not
 * lexed at all: ordinary requests are not lexed twice. Brackets in strings and comments do not count.
 */
function checkLexically(query: unknown, maxTokens: number): void {
  if (typeof query !== "string") return;
  if (query.length <= maxTokens && openingBrackets(query) <= MAX_NESTING) return;
  const lexer = new Lexer(new Source(query));
  let count = 0;
  let depth = 0;
  try {
    for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
      if (++count > maxTokens) throw bodyRefusal(`The document has more than ${maxTokens} tokens.`, "TOO_MANY_TOKENS");
      if (CLOSING.has(token.kind)) depth--;
      else if (OPENING.has(token.kind) && ++depth > MAX_NESTING) {
        throw bodyRefusal(`The document nests brackets more than ${MAX_NESTING} deep.`, "TOO_DEEP");
      }
    }
  } catch (error) {
    if (error instanceof SafeError) throw error;
    // A syntax error: the parser reports it.
  }
}

/** QUERY_TOO_COMPLEX for a request body refused in grafserv's body hook (validation rules use tooComplex). */
function bodyRefusal(message: string, reason: string): SafeError {
  return new SafeError(message, { code: "QUERY_TOO_COMPLEX", details: { reason }, statusCode: 400 });
}

/**
 * The opening brackets of the text, strings and comments included: an upper bound of the depth
 * (closing brackets are not subtracted, since one inside a string would hide a real opening).
 */
function openingBrackets(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x7b || code === 0x5b || code === 0x28) count++;
  }
  return count;
}

/** GraphQL's Int is a signed 32-bit integer. */
const INT_MAX = 2 ** 31 - 1;

/**
 * Validation cannot see variables; page sizes given as variables are checked here, before
 * execution (their defaults are checked by validation). The document is parsed again only when
 * some numeric variable exceeds the maximum.
 */
function checkPageVariables(body: { query?: unknown; variableValues?: unknown }, maxPageSize: number): void {
  const variables =
    body.variableValues && typeof body.variableValues === "object"
      ? (body.variableValues as Record<string, unknown>)
      : {};
  const suspects = Object.entries(variables)
    // A value no Int can hold (1e300, 100.5) is left to the variable's own type error.
    .filter(([, value]) => Number.isInteger(value) && (value as number) > maxPageSize && (value as number) <= INT_MAX)
    .map(([name]) => name);
  if (suspects.length === 0 || typeof body.query !== "string") return;
  let document;
  try {
    document = parse(body.query);
  } catch {
    return; // validation reports it
  }
  const pageVariables = new Set<string>();
  visit(document, {
    Argument(node) {
      if (PAGE_ARGS.has(node.name.value) && node.value.kind === Kind.VARIABLE) pageVariables.add(node.value.name.value);
    },
  });
  const offending = suspects.find((name) => pageVariables.has(name));
  if (offending) {
    throw bodyRefusal(`$${offending} (a page size) may be at most ${maxPageSize}.`, "PAGE_TOO_LARGE");
  }
}
