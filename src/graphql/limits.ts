/**
 * GraphQL hardening (V5 has no built-in depth or cost limit): validation rules that run before
 * any SQL — depth, cost, maximum page size, and introspection off in production — plus a check of
 * page sizes given through variables, which validation cannot see.
 */
import {
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  getNamedType,
  type ASTVisitor,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
  isCompositeType,
  isObjectType,
  isInterfaceType,
  parse,
  visit,
} from "postgraphile/graphql";
import { SafeError } from "postgraphile/grafast";

export interface GraphQLLimits {
  maxDepth: number;
  maxCost: number;
  maxPageSize: number;
  introspection: boolean;
}

const PAGE_ARGS = new Set(["first", "last"]);

function tooComplex(message: string, reason: string, node?: FieldNode): GraphQLError {
  return new GraphQLError(message, { nodes: node ? [node] : undefined, extensions: { code: "QUERY_TOO_COMPLEX", details: { reason } } });
}

/** Walks the selection of an operation, following fragments, tracking depth and cost. */
function measure(
  context: ValidationContext,
  selectionSet: SelectionSetNode,
  parentType: GraphQLCompositeType | undefined,
  limits: GraphQLLimits,
  depth: number,
  visited: Set<string>,
): { depth: number; cost: number } {
  let maxDepth = depth;
  let cost = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value.startsWith("__")) continue; // introspection: governed by its own switch
      const fieldDef = parentType && (isObjectType(parentType) || isInterfaceType(parentType)) ? parentType.getFields()[selection.name.value] : undefined;
      const childType = fieldDef ? getNamedType(fieldDef.type) : undefined;
      let multiplier = 1;
      for (const arg of selection.arguments ?? []) {
        if (!PAGE_ARGS.has(arg.name.value)) continue;
        if (arg.value.kind === Kind.INT) {
          const size = Number(arg.value.value);
          if (size > limits.maxPageSize) {
            context.reportError(tooComplex(`${arg.name.value} may be at most ${limits.maxPageSize}.`, "PAGE_TOO_LARGE", selection));
          }
          multiplier = Math.max(multiplier, size);
        } else {
          multiplier = Math.max(multiplier, limits.maxPageSize);
        }
      }
      // A connection without first/last is assumed to return a full page.
      if (multiplier === 1 && childType?.name.endsWith("Connection")) multiplier = limits.maxPageSize;
      if (selection.selectionSet) {
        const inner = measure(context, selection.selectionSet, childType && isCompositeType(childType) ? childType : undefined, limits, depth + 1, visited);
        maxDepth = Math.max(maxDepth, inner.depth);
        cost += 1 + multiplier * inner.cost;
      } else {
        cost += 1;
      }
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const typeName = selection.typeCondition?.name.value;
      const type = typeName ? context.getSchema().getType(typeName) : parentType;
      const inner = measure(context, selection.selectionSet, type && isCompositeType(type) ? type : parentType, limits, depth, visited);
      maxDepth = Math.max(maxDepth, inner.depth);
      cost += inner.cost;
    } else {
      const name = selection.name.value;
      const fragment: FragmentDefinitionNode | undefined = context.getFragment(name) ?? undefined;
      if (!fragment || visited.has(name)) continue;
      visited.add(name);
      const type = context.getSchema().getType(fragment.typeCondition.name.value);
      const inner = measure(context, fragment.selectionSet, type && isCompositeType(type) ? type : undefined, limits, depth, visited);
      visited.delete(name);
      maxDepth = Math.max(maxDepth, inner.depth);
      cost += inner.cost;
    }
  }
  return { depth: maxDepth, cost };
}

export function makeLimitRules(limits: GraphQLLimits): ValidationRule[] {
  const depthAndCost: ValidationRule = (context): ASTVisitor => ({
    OperationDefinition(node) {
      const schema = context.getSchema();
      const root = node.operation === "query" ? schema.getQueryType() : node.operation === "mutation" ? schema.getMutationType() : schema.getSubscriptionType();
      const { depth, cost } = measure(context, node.selectionSet, root ?? undefined, limits, 0, new Set());
      if (depth > limits.maxDepth) {
        context.reportError(tooComplex(`The query is ${depth} levels deep; at most ${limits.maxDepth} are allowed.`, "TOO_DEEP"));
      }
      if (cost > limits.maxCost) {
        context.reportError(tooComplex(`The query's estimated cost is ${cost}; at most ${limits.maxCost} is allowed.`, "TOO_COSTLY"));
      }
    },
  });
  return limits.introspection ? [depthAndCost] : [depthAndCost, NoSchemaIntrospectionCustomRule];
}

/**
 * Grafserv plugin adding the rules to every GraphQL request (HTTP and WebSocket), and refusing
 * page sizes passed as variables above the maximum before execution.
 */
export function makeLimitsPlugin(limits: GraphQLLimits): GraphileConfig.Plugin {
  const rules = makeLimitRules(limits);
  return {
    name: "TesseraGraphQLLimits",
    version: "0.1.0",
    grafserv: {
      middleware: {
        setPreset(next, event) {
          event.validationRules.push(...rules);
          return next();
        },
        processGraphQLRequestBody(next, event) {
          checkPageVariables(event.body as { query?: unknown; variableValues?: unknown }, limits.maxPageSize);
          return next();
        },
      },
    },
  };
}

/**
 * Validation cannot see variables; page sizes given as variables are checked here, before
 * execution. The document is parsed again only when some numeric variable exceeds the maximum.
 */
function checkPageVariables(body: { query?: unknown; variableValues?: unknown }, maxPageSize: number): void {
  const variables = body.variableValues && typeof body.variableValues === "object" ? (body.variableValues as Record<string, unknown>) : {};
  const suspects = Object.entries(variables).filter(([, value]) => typeof value === "number" && value > maxPageSize).map(([name]) => name);
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
    throw new SafeError(`$${offending} (a page size) may be at most ${maxPageSize}.`, {
      code: "QUERY_TOO_COMPLEX",
      details: { reason: "PAGE_TOO_LARGE" },
      statusCode: 400,
    });
  }
}
