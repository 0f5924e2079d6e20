/**
 * Grafast keeps the plan of every operation it has run, for the next request of the same document:
 * up to 500 operations, each with up to 50 plans, counted by number and not by size. A plan costs
 * about 45 KiB of heap per field it selects (measured: 91 KiB for one field, 11.8 MiB for 300
 * aliases), so a few dozen distinct documents of a few hundred aliases each — anonymous, and each
 * within the field, token and cost limits — filled a 256 MiB heap and the process died.
 *
 * Here the cache is bounded by weight: an operation weighs its fields as validation counted them
 * (fragments expanded; a field of an interface or union once per possible type) plus two, for each
 * plan it may hold (`MAX_PLANS_PER_OPERATION`), and the least recently used
 * operations leave once the total passes the budget. An operation heavier than the whole budget is
 * planned for its request and not kept. grafserv's cache of parsed documents is bounded by count
 * (`PARSED_DOCUMENTS_CACHED`, in the preset): a parsed document weighs about 210 bytes a token, at
 * most ~1 MiB under the token limit.
 *
 * Grafast's cache is not configurable by weight, so this one takes its place on the schema
 * (`schema.extensions.grafast`, under grafast's own symbol, found by its description): grafast
 * calls only its `get` and `set`. test/graphql/planCache.test.ts fails if that ever changes.
 */
import {
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from "postgraphile/graphql";
import { measuredFields } from "./operationMeasure.ts";

/** Plans kept per operation: one per set of variable values that plans differently. */
export const MAX_PLANS_PER_OPERATION = 2;
/** The budget, in field-plans (about 45 KiB each): about 45 MiB of heap. */
export const PLAN_CACHE_BUDGET = 1_000;
/** Parsed and validated documents grafserv keeps (its default is 500). */
export const PARSED_DOCUMENTS_CACHED = 64;

interface Entry {
  value: unknown;
  weight: number;
}

/** A least-recently-used map bounded by the total weight of its values. */
export class WeightedCache<K, V> {
  readonly #entries = new Map<K, Entry>();
  readonly #weigh: (key: K, value: V) => number;
  #total = 0;
  readonly budget: number;

  constructor(budget: number, weigh: (key: K, value: V) => number) {
    this.budget = budget;
    this.#weigh = weigh;
  }

  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    // The most recently used last: Map keeps insertion order.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value as V;
  }

  set(key: K, value: V): void {
    const previous = this.#entries.get(key);
    if (previous) {
      this.#entries.delete(key);
      this.#total -= previous.weight;
    }
    const weight = this.#weigh(key, value);
    if (weight > this.budget) return;
    this.#entries.set(key, { value, weight });
    this.#total += weight;
    for (const [oldest, entry] of this.#entries) {
      if (this.#total <= this.budget) break;
      this.#entries.delete(oldest);
      this.#total -= entry.weight;
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  get weight(): number {
    return this.#total;
  }
}

/**
 * The fields an operation plans: every selection, each fragment counted wherever it is spread
 * (each fragment walked once; a cycle, which validation refuses anyway, counts nothing).
 */
export function plannedFields(
  selectionSet: SelectionSetNode,
  fragments: Readonly<Record<string, FragmentDefinitionNode | undefined>>,
  counted = new Map<string, number>(),
): number {
  let count = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === "Field") {
      count += 1 + (selection.selectionSet ? plannedFields(selection.selectionSet, fragments, counted) : 0);
    } else if (selection.kind === "InlineFragment") {
      count += plannedFields(selection.selectionSet, fragments, counted);
    } else {
      const name = selection.name.value;
      let fields = counted.get(name);
      if (fields === undefined) {
        counted.set(name, 0);
        const fragment = fragments[name];
        fields = fragment ? plannedFields(fragment.selectionSet, fragments, counted) : 0;
        counted.set(name, fields);
      }
      count += fields;
    }
  }
  return count;
}

/** What grafast stores per operation (its cache entry): the fragments are all this needs. */
interface OperationEntry {
  fragments?: Record<string, FragmentDefinitionNode | undefined>;
}

type OperationNode = { selectionSet: SelectionSetNode };

export type PlanCache = WeightedCache<OperationNode, OperationEntry>;

const CACHE_DESCRIPTION = "cacheByOperation";

/**
 * The fields validation counted (an interface's or union's field once per possible type), or, for an
 * operation it did not see, those of the document as written.
 */
function weighOperation(operation: OperationNode, entry: OperationEntry): number {
  return MAX_PLANS_PER_OPERATION * planWeight(operation, entry.fragments ?? {});
}

/** The weight of one plan of an operation, in field-plans: its fields as validation counted them, plus two. */
export function planWeight(
  operation: OperationNode,
  fragments: Readonly<Record<string, FragmentDefinitionNode | undefined>>,
): number {
  const fields =
    measuredFields.get(operation as OperationDefinitionNode) ?? plannedFields(operation.selectionSet, fragments);
  return 2 + fields;
}

/**
 * planWeight of one operation of `document`: its fragments are gathered only for an operation
 * validation did not measure (nearly every operation is measured, and this runs on every request).
 */
export function operationWeight(document: DocumentNode, operation: OperationDefinitionNode): number {
  const measured = measuredFields.get(operation);
  if (measured !== undefined) return 2 + measured;
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  }
  return planWeight(operation, fragments);
}

/** Grafast's extensions of a schema and the symbol its operation cache is kept under, if both are there. */
function cacheSlot(schema: GraphQLSchema): { extensions: Record<string | symbol, unknown>; key: symbol } | undefined {
  const extensions = schema.extensions.grafast as Record<string | symbol, unknown> | undefined;
  if (!extensions) return undefined;
  const key = Object.getOwnPropertySymbols(extensions).find((symbol) => symbol.description === CACHE_DESCRIPTION);
  return key ? { extensions, key } : undefined;
}

/** The plan cache installed on a schema, if any. */
export function planCacheOf(schema: GraphQLSchema): PlanCache | undefined {
  const slot = cacheSlot(schema);
  const cache = slot?.extensions[slot.key];
  return cache instanceof WeightedCache ? (cache as PlanCache) : undefined;
}

/**
 * Puts the weighted cache in the place of grafast's own, once grafast has made its own (at the
 * first operation planned); false when grafast keeps its cache elsewhere now.
 */
function install(schema: GraphQLSchema, budget: number): boolean {
  const slot = cacheSlot(schema);
  if (!slot) return false;
  const { extensions, key } = slot;
  const own = extensions[key] as { get?: unknown; set?: unknown } | undefined;
  if (typeof own?.get !== "function" || typeof own.set !== "function") return false;
  extensions.operationOperationPlansCacheMaxLength = MAX_PLANS_PER_OPERATION;
  extensions[key] = new WeightedCache<OperationNode, OperationEntry>(budget, weighOperation);
  return true;
}

/** Where the operation's plan is kept in its context (see operationPlanOf). */
const OPERATION_PLAN = Symbol("operationPlan");

/**
 * The plan an operation runs, once Grafast has established it: the plan cache's middleware keeps it
 * in the operation's context, so that what holds an operation running — a live subscription — can
 * tell which plan it holds (operations of one document share a plan, unless variables that decide
 * the plan, `@include(if: $v)`, differ).
 */
export function operationPlanOf(contextValue: unknown): object | undefined {
  if (!contextValue || typeof contextValue !== "object") return undefined;
  const plan = (contextValue as Record<symbol, unknown>)[OPERATION_PLAN];
  return plan && typeof plan === "object" ? plan : undefined;
}

export function makePlanCachePlugin(
  onFailure: (message: string) => void,
  budget = PLAN_CACHE_BUDGET,
): GraphileConfig.Plugin {
  let settled: GraphQLSchema | undefined;
  return {
    name: "TesseraPlanCache",
    version: "0.1.0",
    grafast: {
      middleware: {
        establishOperationPlan(next, event) {
          const plan = next();
          const context = event.args.contextValue as Record<symbol, unknown> | undefined;
          if (context && typeof context === "object") context[OPERATION_PLAN] = plan;
          if (settled !== event.schema) {
            settled = event.schema;
            if (!install(event.schema, budget))
              onFailure("Grafast's operation plan cache was not found: plans are kept by count, not by size.");
          }
          return plan;
        },
      },
    },
  };
}
