/**
 * Operation plans are kept by weight, not by count: distinct documents of many aliases — anonymous,
 * each within the GraphQL limits — once filled the heap until the process died. The server's plan
 * cache is the weighted one (grafast's own was found and replaced), its weight never passes its
 * budget, an operation heavier than the budget is not kept, and a document sent again is planned
 * once.
 */
import { parse, type FragmentDefinitionNode, type OperationDefinitionNode } from "postgraphile/graphql";
import {
  MAX_PLANS_PER_OPERATION,
  PLAN_CACHE_BUDGET,
  WeightedCache,
  planCacheOf,
  plannedFields,
} from "../../src/platform/graphql/planCache.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";

test("the weighted cache drops its least recently used entries past its budget, and keeps none heavier than it", () => {
  const cache = new WeightedCache<string, number>(10, (_key, weight) => weight);
  cache.set("a", 4);
  cache.set("b", 4);
  expect(cache.get("a")).toBe(4); // a is now the most recently used
  cache.set("c", 4); // 12 > 10: b, the least recently used, goes
  expect([cache.get("a"), cache.get("b"), cache.get("c")]).toEqual([4, undefined, 4]);
  expect(cache.weight).toBe(8);
  cache.set("huge", 11);
  expect([cache.get("huge"), cache.size, cache.weight]).toEqual([undefined, 2, 8]);
  cache.set("a", 6); // replaced, not added twice
  expect([cache.size, cache.weight]).toEqual([2, 10]);
});

test("an operation weighs every field it plans, fragments counted where they are spread", () => {
  const document = parse(`
    query { a b { c ...F ...F } ... on Query { d } }
    fragment F on B { e f { g } }
  `);
  const operation = document.definitions[0] as OperationDefinitionNode;
  const fragments = { F: document.definitions[1] as FragmentDefinitionNode };
  // a, b, c, d, and F's three fields twice.
  expect(plannedFields(operation.selectionSet, fragments)).toBe(10);
  // A chain that doubles at each of 40 steps is counted by walking each fragment once.
  const chain = Array.from({ length: 40 }, (_, i) => `fragment F${i} on Q { ...F${i + 1} ...F${i + 1} }`).join("\n");
  const doubling = parse(`query { ...F0 }\n${chain}\nfragment F40 on Q { x }`);
  const byName = Object.fromEntries(
    doubling.definitions.slice(1).map((definition) => {
      const fragment = definition as FragmentDefinitionNode;
      return [fragment.name.value, fragment];
    }),
  );
  expect(plannedFields((doubling.definitions[0] as OperationDefinitionNode).selectionSet, byName)).toBe(2 ** 40);
});

describe("on the server", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  const aliases = (count: number, seed: number) =>
    `{ ${Array.from({ length: count }, (_, i) => `a${i}: tenantModuleEnabled(module: "m${seed}-${i}")`).join(" ")} }`;

  test("distinct documents of many aliases are answered, and the cache stays within its budget", async () => {
    expect((await app.graphql("{ __typename }")).status).toBe(200);
    const schema = await app.server.pgl.getSchema();
    const cache = planCacheOf(schema);
    expect(cache).toBeInstanceOf(WeightedCache);

    // Heavier than the whole budget: answered, not kept.
    const heavy = Math.ceil(PLAN_CACHE_BUDGET / MAX_PLANS_PER_OPERATION);
    const before = cache!.size;
    const answer = await app.graphql(aliases(heavy, 0));
    expect([answer.status, Object.keys(answer.body.data ?? {}).length]).toEqual([200, heavy]);
    expect(cache!.size).toBe(before);

    // Many distinct documents that each fit: the oldest leave, the weight never passes the budget.
    for (let seed = 1; seed <= 40; seed++) {
      const { status } = await app.graphql(aliases(40, seed));
      expect(status).toBe(200);
      expect(cache!.weight).toBeLessThanOrEqual(PLAN_CACHE_BUDGET);
    }
    expect(cache!.size).toBeLessThan(40);

    // A document sent again is found, not added a second time.
    const again = "{ currentTenant { name } }";
    expect((await app.graphql(again)).body.errors).toBeUndefined();
    const [size, weight] = [cache!.size, cache!.weight];
    expect((await app.graphql(again)).body.errors).toBeUndefined();
    expect([cache!.size, cache!.weight]).toEqual([size, weight]);
  });
});
