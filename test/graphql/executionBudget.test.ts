/**
 * The execution budget: the fields of the operations being planned and run at once. An operation
 * that does not fit waits for those in progress, in turn; one heavier than the whole budget runs
 * alone; a failed one gives its fields back. (Its effect on a flood of heavy documents is measured
 * by `npm run bench:heavy-flood`, bench/README.md.)
 */
import { parse } from "postgraphile/graphql";
import { makeExecutionBudgetPlugin } from "../../src/platform/graphql/executionBudget.ts";

type Execute = (next: () => unknown, event: { args: unknown }) => unknown;

/** The plugin's execute middleware, with a budget of `fields`. */
function budgetOf(fields: number): Execute {
  const plugin = makeExecutionBudgetPlugin(fields);
  return (plugin.grafast!.middleware!.execute as unknown as Execute).bind(undefined);
}

/** An operation of `fields` fields from `ip` (its weight: the fields plus two). */
function args(fields: number, ip = "192.0.2.1") {
  const selections = Array.from({ length: fields }, (_, i) => `f${i}: __typename`).join(" ");
  return { document: parse(`{ ${selections} }`), contextValue: { caller: { ip } } };
}

/** An execution whose result comes when `finish` is called; `started` once the engine ran it. */
function execution(execute: Execute, fields: number, ip?: string) {
  let finish!: (value: string) => void;
  let fail!: (error: Error) => void;
  const state = { started: false, result: undefined as unknown };
  const next = () => {
    state.started = true;
    return new Promise<string>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
  };
  const result = Promise.resolve(execute(next, { args: args(fields, ip) }));
  result.then(
    (value) => void (state.result = value),
    () => undefined,
  );
  return { state, finish: (value: string) => finish(value), fail: (error: Error) => fail(error), result };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

test("operations that fit run at once; one that does not waits for those in progress, and none passes it", async () => {
  const execute = budgetOf(20);
  const first = execution(execute, 6); // weight 8
  const second = execution(execute, 6); // 8: 16 of 20 taken
  expect([first.state.started, second.state.started]).toEqual([true, true]);
  const heavy = execution(execute, 10); // 12: does not fit
  const light = execution(execute, 1); // 3: would fit, but waits behind the heavy one
  await turn();
  expect([heavy.state.started, light.state.started]).toEqual([false, false]);
  first.finish("first");
  await first.result;
  await turn();
  // 8 free + 4 = 12: the heavy one runs; the light one still waits (8 + 12 = 20 taken).
  expect([heavy.state.started, light.state.started]).toEqual([true, false]);
  second.finish("second");
  await turn();
  expect(light.state.started).toBe(true);
  heavy.finish("heavy");
  light.finish("light");
  expect(await Promise.all([first.result, second.result, heavy.result, light.result])).toEqual([
    "first",
    "second",
    "heavy",
    "light",
  ]);
});

test("an operation heavier than the whole budget runs alone; a failed one gives its fields back", async () => {
  const execute = budgetOf(10);
  const small = execution(execute, 1); // 3
  const huge = execution(execute, 50); // 52: takes the whole budget once it is free
  await turn();
  expect(huge.state.started).toBe(false);
  small.fail(new Error("refused by the database"));
  await expect(small.result).rejects.toThrow("refused by the database");
  await turn();
  expect(huge.state.started).toBe(true);
  const after = execution(execute, 1);
  await turn();
  expect(after.state.started).toBe(false);
  huge.finish("huge");
  await huge.result;
  await turn();
  expect(after.state.started).toBe(true);
  after.finish("after");
  expect(await after.result).toBe("after");
  // Everything given back: the whole budget is free again.
  expect(execution(execute, 8).state.started).toBe(true);
});

test("the waiting are served one client address at a time", async () => {
  const execute = budgetOf(10);
  const holder = execution(execute, 8, "192.0.2.1"); // 10: the whole budget
  const flood = [1, 2, 3].map(() => execution(execute, 8, "192.0.2.1"));
  const other = execution(execute, 8, "198.51.100.7");
  holder.finish("holder");
  await holder.result;
  await turn();
  expect([flood[0]!.state.started, other.state.started]).toEqual([true, false]);
  flood[0]!.finish("a");
  await flood[0]!.result;
  await turn();
  // The other address's operation comes before the rest of the flood.
  expect([other.state.started, flood[1]!.state.started]).toEqual([true, false]);
  other.finish("b");
  for (const item of flood.slice(1)) {
    await turn();
    expect(item.state.started).toBe(true);
    item.finish("c");
    await item.result;
  }
});
