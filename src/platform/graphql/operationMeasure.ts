/**
 * What the GraphQL limit rules (src/platform/graphql/limits.ts) count in an operation, before any
 * SQL: nesting depth, estimated cost, field selections, expensive identity mutations and
 * introspection selections, with named fragments expanded (each measured once).
 */
import {
  GraphQLError,
  Kind,
  getNamedType,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLObjectType,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  isAbstractType,
  isCompositeType,
  isObjectType,
  isInterfaceType,
} from "postgraphile/graphql";

export interface GraphQLLimits {
  maxDepth: number;
  maxCost: number;
  maxPageSize: number;
  introspection: boolean;
  /** Field selections per operation, aliases and `__typename` included, fragments expanded. */
  maxFields?: number;
  /** Lexical tokens per document (comments excluded), checked before parsing. */
  maxTokens?: number;
  /** Selections of the expensive mutations per operation. */
  maxExpensiveFields?: number;
  /**
   * Root mutations the modules declare expensive (a password hashed or verified, a code checked
   * under a rate limit, an e-mail sent): one of them per request is all a client needs.
   */
  expensiveMutations?: ReadonlySet<string>;
}

export const PAGE_ARGS = new Set(["first", "last"]);

/**
 * Each validated operation's field count (`Measure.fields`), for the plan cache to weigh it by
 * (src/platform/graphql/planCache.ts): the node a document keeps, so it lives as long as it does.
 */
export const measuredFields = new WeakMap<OperationDefinitionNode, number>();

export function tooComplex(message: string, reason: string, node?: FieldNode): GraphQLError {
  return new GraphQLError(message, {
    nodes: node ? [node] : undefined,
    extensions: { code: "QUERY_TOO_COMPLEX", details: { reason } },
  });
}

interface Measure {
  /** Levels of selection sets nested below this one (introspection fields excepted). */
  depth: number;
  cost: number;
  /**
   * Field selections, each alias and `__typename` counted; a field of an interface or union type
   * (`node`) once for each type it may be, with its selections, as Grafast plans a branch for each.
   */
  fields: number;
  /** Selections of the expensive mutations on the Mutation type. */
  expensive: number;
  /** `__schema` and `__type` selections: each answers with a large part of the schema. */
  introspection: number;
}

const ZERO: Measure = { depth: 0, cost: 0, fields: 0, expensive: 0, introspection: 0 };

/**
 * `__schema` / `__type` selections per operation. One full introspection (what Ruru and codegen
 * send) is ~150 kB of answer whose lists the cost estimate cannot see; forty aliased copies in
 * one 7 kB request answered 5.4 MB.
 */
export const MAX_INTROSPECTION_SELECTIONS = 2;

export interface Walk {
  context: ValidationContext;
  limits: GraphQLLimits;
  mutationType: GraphQLObjectType | undefined;
  /**
   * Each named fragment is measured once per validation and its measure reused wherever it is
   * spread: a chain of fragments spreading the next one twice costs linear time, not 2^n.
   * `null` marks a fragment being measured (a cycle, which NoFragmentCyclesRule reports).
   */
  fragments: Map<string, Measure | null>;
}

/** Measures a selection set relative to its own position (depth 0 = its fields). */
export function measure(
  walk: Walk,
  selectionSet: SelectionSetNode,
  parentType: GraphQLCompositeType | undefined,
): Measure {
  const { context, limits } = walk;
  let depth = 0;
  let cost = 0;
  let fields = 0;
  let expensive = 0;
  let introspectionRoots = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      const name = selection.name.value;
      fields += 1;
      if (name === "__schema" || name === "__type") introspectionRoots += 1;
      if (parentType && parentType === walk.mutationType && walk.limits.expensiveMutations?.has(name)) expensive += 1;
      const fieldDef =
        parentType && (isObjectType(parentType) || isInterfaceType(parentType))
          ? parentType.getFields()[name]
          : undefined;
      const childType = fieldDef ? getNamedType(fieldDef.type) : undefined;
      // The page a field asks for (the larger of first/last; a page of 0 still costs its one
      // evaluation), undefined when it names none.
      let page: number | undefined;
      for (const arg of selection.arguments ?? []) {
        if (!PAGE_ARGS.has(arg.name.value)) continue;
        if (arg.value.kind === Kind.INT) {
          const size = Number(arg.value.value);
          if (size > limits.maxPageSize) {
            context.reportError(
              tooComplex(`${arg.name.value} may be at most ${limits.maxPageSize}.`, "PAGE_TOO_LARGE", selection),
            );
          }
          page = Math.max(page ?? 1, size);
        } else {
          page = Math.max(page ?? 1, limits.maxPageSize);
        }
      }
      // A connection without first/last is assumed to return a full page.
      const multiplier = page ?? (childType?.name.endsWith("Connection") ? limits.maxPageSize : 1);
      // Introspection fields (`__typename`, `__schema`, `__type`) cost like any other field; only
      // their nesting is left out of the depth (the standard introspection query is deep).
      const introspection = name.startsWith("__");
      if (selection.selectionSet) {
        const inner = measure(
          walk,
          selection.selectionSet,
          childType && isCompositeType(childType) ? childType : undefined,
        );
        if (!introspection) depth = Math.max(depth, inner.depth + 1);
        cost += 1 + multiplier * inner.cost;
        // `node(id:) { id }` planned 34 times over: 50 aliases of it took 1.5 s and 150 MiB to plan,
        // and 400 exhausted the heap in one request.
        const branches =
          childType && isAbstractType(childType) && !introspection
            ? context.getSchema().getPossibleTypes(childType).length
            : 1;
        fields += branches * (1 + inner.fields) - 1;
        expensive += inner.expensive;
        introspectionRoots += inner.introspection;
      } else {
        cost += 1;
      }
    } else {
      let inner: Measure;
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const typeName = selection.typeCondition?.name.value;
        const type = typeName ? context.getSchema().getType(typeName) : parentType;
        inner = measure(walk, selection.selectionSet, type && isCompositeType(type) ? type : parentType);
      } else {
        inner = measureFragment(walk, selection.name.value);
      }
      depth = Math.max(depth, inner.depth);
      cost += inner.cost;
      fields += inner.fields;
      expensive += inner.expensive;
      introspectionRoots += inner.introspection;
    }
  }
  return { depth, cost, fields, expensive, introspection: introspectionRoots };
}

function measureFragment(walk: Walk, name: string): Measure {
  const known = walk.fragments.get(name);
  if (known !== undefined) return known ?? ZERO;
  const fragment: FragmentDefinitionNode | undefined = walk.context.getFragment(name) ?? undefined;
  if (!fragment) return ZERO;
  walk.fragments.set(name, null);
  const type = walk.context.getSchema().getType(fragment.typeCondition.name.value);
  const result = measure(walk, fragment.selectionSet, type && isCompositeType(type) ? type : undefined);
  walk.fragments.set(name, result);
  return result;
}
